package dev.retain.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Trains a GPT-2 style byte-level BPE vocabulary on text and writes it with {@link ByteLevelBpe}.
 *
 * <p>The steps are those the Hugging Face tokenizers library runs at encoding time, so that the
 * merges apply as trained:
 *
 * <ol>
 *   <li>Pre-tokenise each text with the GPT-2 pattern of the ByteLevel pre-tokenizer
 *       ({@code use_regex: true}): {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
 *       ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}, with Unicode white space for {@code \s}. A space stays
 *       attached to the word after it ({@code " heart"}); a run of spaces gives all but its last to a
 *       piece of its own.
 *   <li>Write each piece's UTF-8 bytes as GPT-2's printable characters
 *       ({@link ByteLevelBpe#byteToUnicode()}) and count the distinct pieces ("words").
 *   <li>Start from the 256 byte symbols and repeatedly merge the most frequent adjacent pair over all
 *       words (weighted by word count), until the vocabulary (specials + 256 bytes + distinct merged
 *       symbols) has the requested size or no pair occurs {@code minFrequency} times. Ties go to the
 *       pair whose left symbol, then right symbol, sorts first ({@link String#compareTo}), so training
 *       is deterministic. Within a word a merge applies left to right without overlap, as the
 *       tokenizers library does.
 * </ol>
 *
 * <p>With {@code splitDigits} no merge involves a symbol containing an ASCII digit: every digit stays
 * one token (as in LLaMA's tokenizer), which keeps arithmetic learnable for a small model. A space
 * before a number stays its own token then.
 *
 * <p>Pair counts are kept incrementally: a merge only revisits the words that contain its pair (an
 * index from pair to words, cleaned lazily) and a priority queue with lazy invalidation finds the next
 * best pair, so a few megabytes of text train in seconds.
 */
public final class BpeTrainer {
  /** retain's special tokens: ids 0, 1, 2 = unknown, bos, eos. */
  public static final List<String> DEFAULT_SPECIALS = List.of("<unk>", "<s>", "</s>");

  /** The pattern of the ByteLevel pre-tokenizer of the tokenizers library (GPT-2's). */
  public static final Pattern GPT2_PATTERN = Pattern.compile(
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
      Pattern.UNICODE_CHARACTER_CLASS);

  private static final char[] BYTE_CHARS = ByteLevelBpe.byteToUnicode();

  private final boolean splitDigits;
  private final Map<String, long[]> wordCounts = new HashMap<>();
  private long pieces;

  /** @param splitDigits never merge symbols that contain an ASCII digit (digits stay single tokens) */
  public BpeTrainer(boolean splitDigits) {
    this.splitDigits = splitDigits;
  }

  /** The pieces of {@code text} as the ByteLevel pre-tokenizer cuts it (before the byte mapping). */
  public static List<String> preTokenize(String text) {
    List<String> out = new ArrayList<>();
    Matcher m = GPT2_PATTERN.matcher(text);
    while (m.find()) {
      if (m.end() > m.start()) {
        out.add(m.group());
      }
    }
    return out;
  }

  /** The piece's UTF-8 bytes written as GPT-2 byte characters ({@code " heart"} becomes {@code "Ġheart"}). */
  public static String byteSymbols(String piece) {
    byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
    char[] out = new char[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      out[i] = BYTE_CHARS[bytes[i] & 0xFF];
    }
    return new String(out);
  }

  /** Counts the words of one text (a document, a prompt or a completion: pieces never cross texts). */
  public void add(String text) {
    for (String piece : preTokenize(text)) {
      wordCounts.computeIfAbsent(byteSymbols(piece), k -> new long[1])[0]++;
      pieces++;
    }
  }

  /** Words counted so far, with repeats. */
  public long pieces() {
    return pieces;
  }

  /** Distinct words counted so far. */
  public int distinctWords() {
    return wordCounts.size();
  }

  /**
   * The trained vocabulary.
   *
   * @param specials special tokens (ids 0..), e.g. {@link #DEFAULT_SPECIALS}
   * @param merges the merges in order, each a pair of symbols in byte-character form
   * @param vocabSize specials + 256 + distinct merged symbols
   */
  public record Result(List<String> specials, List<String[]> merges, int vocabSize) {
    public Result {
      specials = List.copyOf(specials);
      merges = List.copyOf(merges);
    }

    /** The tokenizer.json tree ({@link ByteLevelBpe#tokenizerJson}). */
    public ObjectNode tokenizerJson() {
      return ByteLevelBpe.tokenizerJson(specials, merges);
    }
  }

  /**
   * Merges until the vocabulary has {@code vocabSize} entries or no pair occurs at least
   * {@code minFrequency} times (then the vocabulary is smaller; see {@link Result#vocabSize()}).
   */
  public Result train(int vocabSize, List<String> specials, int minFrequency) {
    Set<String> distinct = new HashSet<>(specials);
    if (distinct.size() != specials.size()) {
      throw new IllegalArgumentException("special tokens repeat: " + specials);
    }
    int base = specials.size() + 256;
    for (String s : specials) {
      if (s.length() == 1 && new String(BYTE_CHARS).indexOf(s.charAt(0)) >= 0) {
        throw new IllegalArgumentException("special token " + s + " is also a byte symbol; choose another");
      }
    }
    if (vocabSize < base) {
      throw new IllegalArgumentException("vocabulary size " + vocabSize + " is below the " + base
          + " tokens that the specials and the 256 bytes take; ask for at least " + base);
    }
    if (minFrequency < 1) {
      throw new IllegalArgumentException("minimum pair frequency must be at least 1, got " + minFrequency);
    }
    return new Run(specials, minFrequency).run(vocabSize - specials.size());
  }

  /** One training run: symbol table, words as symbol ids, pair counts and the queue. */
  private final class Run {
    final List<String> specials;
    final Set<String> specialSet;
    final int minFrequency;
    int collisions; // merged symbols spelled like a special token share its id in tokenizer.json
    final List<String> symbols = new ArrayList<>();
    final Map<String, Integer> symbolIds = new HashMap<>();
    final List<Boolean> hasDigit = new ArrayList<>();
    final int[][] words;
    final long[] counts;
    final Map<Long, long[]> pairCounts = new HashMap<>();
    final Map<Long, Set<Integer>> pairWords = new HashMap<>();
    final PriorityQueue<Candidate> queue = new PriorityQueue<>();

    Run(List<String> specials, int minFrequency) {
      this.specials = specials;
      this.specialSet = new HashSet<>(specials);
      this.minFrequency = minFrequency;
      for (char c : BYTE_CHARS) {
        symbol(String.valueOf(c));
      }
      // sorted words: ids, and so iteration orders, do not depend on hashing
      TreeMap<String, long[]> sorted = new TreeMap<>(wordCounts);
      words = new int[sorted.size()][];
      counts = new long[sorted.size()];
      int w = 0;
      for (Map.Entry<String, long[]> e : sorted.entrySet()) {
        String word = e.getKey();
        int[] ids = new int[word.length()];
        for (int i = 0; i < ids.length; i++) {
          ids[i] = symbolIds.get(String.valueOf(word.charAt(i)));
        }
        words[w] = ids;
        counts[w] = e.getValue()[0];
        w++;
      }
      for (w = 0; w < words.length; w++) {
        int[] s = words[w];
        for (int i = 0; i + 1 < s.length; i++) {
          if (mergeable(s[i], s[i + 1])) {
            long key = key(s[i], s[i + 1]);
            pairCounts.computeIfAbsent(key, k -> new long[1])[0] += counts[w];
            pairWords.computeIfAbsent(key, k -> new HashSet<>()).add(w);
          }
        }
      }
      for (Map.Entry<Long, long[]> e : pairCounts.entrySet()) {
        queue.add(candidate(e.getKey(), e.getValue()[0]));
      }
    }

    int symbol(String s) {
      Integer id = symbolIds.get(s);
      if (id == null) {
        id = symbols.size();
        symbols.add(s);
        symbolIds.put(s, id);
        if (specialSet.contains(s)) {
          collisions++;
        }
        boolean digit = false;
        for (int i = 0; i < s.length(); i++) {
          char c = s.charAt(i);
          digit |= c >= '0' && c <= '9';
        }
        hasDigit.add(digit);
      }
      return id;
    }

    boolean mergeable(int a, int b) {
      return !splitDigits || !(hasDigit.get(a) || hasDigit.get(b));
    }

    Candidate candidate(long key, long count) {
      return new Candidate(count, symbols.get((int) (key >>> 32)), symbols.get((int) key), key);
    }

    Result run(int symbolTarget) {
      List<String[]> merges = new ArrayList<>();
      while (symbols.size() - collisions < symbolTarget) {
        Candidate best = next();
        if (best == null) {
          break;
        }
        int a = (int) (best.key >>> 32);
        int b = (int) best.key;
        merges.add(new String[] {best.left, best.right});
        int merged = symbol(best.left + best.right);
        apply(best.key, a, b, merged);
      }
      return new Result(specials, merges, specials.size() + symbols.size() - collisions);
    }

    /** The most frequent pair with a current count, or null when none reaches minFrequency. */
    Candidate next() {
      while (!queue.isEmpty()) {
        Candidate c = queue.poll();
        long[] now = pairCounts.get(c.key);
        if (now == null || now[0] != c.count) {
          continue; // stale entry; the current count has its own entry
        }
        return c.count >= minFrequency ? c : null;
      }
      return null;
    }

    void apply(long key, int a, int b, int merged) {
      Set<Integer> where = pairWords.remove(key);
      pairCounts.remove(key);
      Set<Long> changed = new HashSet<>();
      Integer[] list = where.toArray(new Integer[0]);
      Arrays.sort(list);
      for (int w : list) {
        int[] s = words[w];
        int[] t = new int[s.length];
        int n = 0;
        boolean hit = false;
        for (int i = 0; i < s.length; i++) {
          if (i + 1 < s.length && s[i] == a && s[i + 1] == b) {
            t[n++] = merged;
            i++;
            hit = true;
          } else {
            t[n++] = s[i];
          }
        }
        if (!hit) {
          continue; // the index is cleaned lazily: this word lost the pair to an earlier merge
        }
        t = Arrays.copyOf(t, n);
        long c = counts[w];
        for (int i = 0; i + 1 < s.length; i++) {
          long k = key(s[i], s[i + 1]);
          if (k != key && mergeable(s[i], s[i + 1])) {
            long[] pc = pairCounts.get(k);
            pc[0] -= c;
            changed.add(k);
          }
        }
        for (int i = 0; i + 1 < t.length; i++) {
          if (mergeable(t[i], t[i + 1])) {
            long k = key(t[i], t[i + 1]);
            pairCounts.computeIfAbsent(k, x -> new long[1])[0] += c;
            pairWords.computeIfAbsent(k, x -> new HashSet<>()).add(w);
            changed.add(k);
          }
        }
        words[w] = t;
      }
      for (long k : changed) {
        long[] pc = pairCounts.get(k);
        if (pc == null) {
          continue;
        }
        if (pc[0] <= 0) {
          pairCounts.remove(k);
          pairWords.remove(k);
        } else {
          queue.add(candidate(k, pc[0]));
        }
      }
    }
  }

  private static long key(int a, int b) {
    return ((long) a << 32) | (b & 0xFFFFFFFFL);
  }

  /** A queue entry: higher count first, then the left symbol, then the right symbol, in String order. */
  private record Candidate(long count, String left, String right, long key) implements Comparable<Candidate> {
    @Override
    public int compareTo(Candidate o) {
      if (count != o.count) {
        return count > o.count ? -1 : 1;
      }
      int c = left.compareTo(o.left);
      return c != 0 ? c : right.compareTo(o.right);
    }
  }
}
