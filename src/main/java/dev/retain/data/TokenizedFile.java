package dev.retain.data;

import java.nio.file.Path;
import java.util.List;

/**
 * The examples of one JSONL file after tokenisation, with the counts a user needs to trust them:
 * how many lines were skipped, how many examples were cut to fit a row, how many were dropped because
 * cutting left them nothing to train on, and whether the token cache was used.
 *
 * @param file the JSONL file
 * @param examples the examples in file order (each at most seqLen + 1 tokens)
 * @param records good JSONL records read
 * @param skipped malformed lines skipped (skipBadLines)
 * @param skippedLines the first few skipped line numbers
 * @param problems the messages of the first few skipped lines
 * @param truncated examples cut to seqLen + 1 tokens (dropped ones included)
 * @param droppedNoTargets examples dropped because no target token was left after the cut
 * @param cache how the token cache was used
 */
public record TokenizedFile(
    Path file,
    List<Example> examples,
    int records,
    int skipped,
    List<Integer> skippedLines,
    List<String> problems,
    int truncated,
    int droppedNoTargets,
    CacheStatus cache) {

  /** What the token cache did for this load. */
  public enum CacheStatus {
    /** No cache folder was given. */
    DISABLED,
    /** Not in the cache: tokenised and written. */
    MISS,
    /** Read from the cache; nothing was tokenised. */
    HIT,
    /** A cache file was there but unreadable (corrupt, truncated, other format): tokenised and rewritten. */
    REBUILT
  }

  public TokenizedFile {
    examples = List.copyOf(examples);
    skippedLines = List.copyOf(skippedLines);
    problems = List.copyOf(problems);
  }

  /** The same data with another cache status. */
  TokenizedFile withCache(CacheStatus status) {
    return new TokenizedFile(file, examples, records, skipped, skippedLines, problems, truncated, droppedNoTargets, status);
  }

  /** Total tokens. */
  public long tokens() {
    long n = 0;
    for (Example e : examples) {
      n += e.length();
    }
    return n;
  }

  /** Total target tokens. */
  public long targetTokens() {
    long n = 0;
    for (Example e : examples) {
      n += e.targetCount();
    }
    return n;
  }

  /** One line for the log. */
  public String summary() {
    StringBuilder sb = new StringBuilder();
    sb.append(file).append(": ").append(examples.size()).append(" examples, ").append(tokens()).append(" tokens (")
        .append(targetTokens()).append(" trained on)");
    if (skipped > 0) {
      sb.append(", ").append(skipped).append(" malformed lines skipped (lines ").append(skippedLines)
          .append(skipped > skippedLines.size() ? " ..." : "").append(')');
    }
    if (truncated > 0) {
      sb.append(", ").append(truncated).append(" cut to fit a row");
    }
    if (droppedNoTargets > 0) {
      sb.append(", ").append(droppedNoTargets).append(" dropped (nothing left to train on after the cut)");
    }
    sb.append(", cache ").append(cache.name().toLowerCase(java.util.Locale.ROOT));
    return sb.toString();
  }
}
