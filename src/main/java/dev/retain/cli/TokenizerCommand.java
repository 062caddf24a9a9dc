package dev.retain.cli;

import dev.retain.data.Encoder;
import dev.retain.data.Example;
import dev.retain.data.JsonlReader;
import dev.retain.data.RawExample;
import dev.retain.model.BpeTrainer;
import dev.retain.model.Tokenizer;
import dev.retain.util.AtomicFiles;
import dev.retain.util.Json;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** retain tokenizer: train a byte-level BPE tokenizer.json on JSONL data, and measure data in tokens. */
@Command(name = "tokenizer", mixinStandardHelpOptions = true,
    description = "Train a byte-level BPE tokenizer on JSONL data, or count the tokens of JSONL files.",
    subcommands = {TokenizerCommand.Train.class, TokenizerCommand.Stats.class})
final class TokenizerCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** The texts of a record as the data pipeline tokenises them: each piece on its own. */
  static List<String> pieces(RawExample r) {
    if (r instanceof RawExample.Text t) {
      return List.of(t.text());
    }
    if (r instanceof RawExample.PromptCompletion pc) {
      return List.of(pc.prompt(), pc.completion());
    }
    List<String> out = new ArrayList<>();
    for (RawExample.Message m : ((RawExample.Chat) r).messages()) {
      out.add(Encoder.header(m.role()));
      out.add(m.content());
    }
    out.add("\n");
    return out;
  }

  @Command(name = "train", mixinStandardHelpOptions = true,
      description = {"Train a GPT-2 style byte-level BPE on the text of JSONL files and write a Hugging Face tokenizer.json.",
          "Reads \"text\", \"prompt\" and \"completion\", and chat \"messages\"; each piece is pre-tokenised on its own, "
              + "as retain encodes it. Special tokens take ids 0.., then the 256 bytes, then the merges. "
              + "Deterministic: the same files give the same tokenizer.json byte for byte."})
  static final class Train implements Callable<Integer> {
    @Option(names = "--data", required = true, description = "JSONL file to learn from (repeatable; a file given twice counts twice)")
    List<Path> data;

    @Option(names = "--vocab-size", defaultValue = "4096", description = "tokens in the vocabulary, specials and bytes included (default ${DEFAULT-VALUE})")
    int vocabSize;

    @Option(names = "--out", required = true, description = "tokenizer.json to write")
    Path out;

    @Option(names = "--special", description = "special token (repeatable, in id order; default <unk> <s> </s>, so bos = 1 and eos = 2)")
    List<String> specials;

    @Option(names = "--min-frequency", defaultValue = "2", description = "stop when no pair occurs this often (default ${DEFAULT-VALUE})")
    int minFrequency;

    @Option(names = "--split-digits", negatable = true, defaultValue = "true", fallbackValue = "true",
        description = "keep every digit a token of its own, as LLaMA does (default: on; --no-split-digits lets digits merge)")
    boolean splitDigits;

    @Override
    public Integer call() throws Exception {
      List<String> sp = specials == null || specials.isEmpty() ? BpeTrainer.DEFAULT_SPECIALS : specials;
      BpeTrainer trainer = new BpeTrainer(splitDigits);
      long records = 0;
      for (Path f : data) {
        for (RawExample r : JsonlReader.read(f, false).records()) {
          for (String piece : pieces(r)) {
            trainer.add(piece);
          }
          records++;
        }
      }
      long start = System.nanoTime();
      BpeTrainer.Result result = trainer.train(vocabSize, sp, minFrequency);
      double seconds = (System.nanoTime() - start) / 1e9;
      AtomicFiles.writeString(out, Json.PRETTY.writeValueAsString(result.tokenizerJson()) + "\n");
      PrintStream o = System.out;
      o.printf(Locale.ROOT, "read %d records from %d file(s): %d words, %d distinct%n",
          records, data.size(), trainer.pieces(), trainer.distinctWords());
      o.printf(Locale.ROOT, "trained %d merges in %.1f s: vocabulary %d (%d specials + 256 bytes + merged symbols)%n",
          result.merges().size(), seconds, result.vocabSize(), sp.size());
      if (result.vocabSize() < vocabSize) {
        o.printf(Locale.ROOT, "note: no pair occurs %d times any more, so the vocabulary stopped at %d of %d%n",
            minFrequency, result.vocabSize(), vocabSize);
      }
      o.println("wrote " + out);
      return 0;
    }
  }

  @Command(name = "stats", mixinStandardHelpOptions = true,
      description = {"Count the tokens of JSONL files as retain encodes them (bos + pieces + eos).",
          "Prints one tab-separated line per file: examples, tokens, target tokens, mean, median, 99th percentile "
              + "and longest example, and how many examples a row of --seq-len positions would cut."})
  static final class Stats implements Callable<Integer> {
    @Option(names = "--tokenizer", required = true, description = "tokenizer.json, or a folder holding one")
    Path tokenizer;

    @Option(names = "--data", required = true, description = "JSONL file (repeatable)")
    List<Path> data;

    @Option(names = "--seq-len", defaultValue = "128", description = "input positions of a packed row (default ${DEFAULT-VALUE})")
    int seqLen;

    @Option(names = "--bos", defaultValue = "1", description = "bos id, negative for none (default ${DEFAULT-VALUE})")
    int bos;

    @Option(names = "--eos", defaultValue = "2", description = "eos id (default ${DEFAULT-VALUE})")
    int eos;

    @Override
    public Integer call() throws Exception {
      if (seqLen < 1) {
        throw new Errors.UserException("--seq-len must be at least 1, got " + seqLen);
      }
      PrintStream o = System.out;
      try (Tokenizer tok = Tokenizer.load(tokenizer)) {
        Encoder enc = new Encoder(tok, bos, eos, seqLen);
        o.println("file\texamples\ttokens\ttarget_tokens\tmean\tp50\tp99\tmax\tcut_at_seq_len");
        for (Path f : data) {
          List<RawExample> records = JsonlReader.read(f, false).records();
          int[] lengths = new int[records.size()];
          long tokens = 0;
          long targets = 0;
          int cut = 0;
          for (int i = 0; i < lengths.length; i++) {
            Example e = enc.encode(records.get(i));
            lengths[i] = e.length();
            tokens += e.length();
            targets += e.targetCount();
            cut += e.length() > enc.maxTokens() ? 1 : 0;
          }
          Arrays.sort(lengths);
          o.printf(Locale.ROOT, "%s\t%d\t%d\t%d\t%.1f\t%d\t%d\t%d\t%d%n", f, lengths.length, tokens, targets,
              (double) tokens / lengths.length, lengths[lengths.length / 2], lengths[(int) ((lengths.length - 1) * 0.99)],
              lengths[lengths.length - 1], cut);
        }
      }
      return 0;
    }
  }
}
