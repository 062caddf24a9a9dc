package dev.retain.cli;

import static dev.retain.testutil.Cli.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.data.Encoder;
import dev.retain.data.Example;
import dev.retain.data.ExampleLoader;
import dev.retain.model.CausalLM;
import dev.retain.model.ModelLoader;
import dev.retain.model.ModelSaver;
import dev.retain.model.Tokenizer;
import dev.retain.model.safetensors.DType;
import dev.retain.retention.Importance;
import dev.retain.testutil.Tiny;
import dev.retain.testutil.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** retain importance end to end on a tiny model folder. */
class ImportanceCommandTest {
  @TempDir Path tmp;

  private Path modelDir() throws Exception {
    Path dir = tmp.resolve("model");
    try (CausalLM m = Tiny.model(31)) {
      ModelSaver.save(m, dir, DType.F32, null);
    }
    Tiny.tokenizer(dir);
    return dir;
  }

  @Test
  void writesALoadableFisherEqualToTheLibrarysAndMergesOnline() throws Exception {
    Path model = modelDir();
    Path data = Tiny.arithmetic(tmp.resolve("general.jsonl"), 12, 0);
    Path out = tmp.resolve("fisher.safetensors");
    Run r = run("importance", "--model", model.toString(), "--data", data.toString(), "--out", out.toString(),
        "--samples", "5", "--seq-len", "32");
    assertEquals(0, r.code(), r.err() + r.out());
    assertTrue(r.out().contains("fisher: 5/5 sequences"), r.out());
    assertTrue(r.out().contains("layer 0") && r.out().contains("lm_head") && r.out().contains("share"), r.out());
    Importance f = Importance.load(out);
    assertEquals(Importance.FISHER, f.kind());
    assertEquals(5, f.samples());
    assertEquals(model.toString(), f.metadata().get("retain.model"));
    try (CausalLM m = ModelLoader.load(model); Tokenizer tok = Tokenizer.load(model)) {
      assertEquals(m.parameters().keySet(), f.names());
      List<Example> ex = new ExampleLoader(new Encoder(tok, 1, 2, 32), null, false).load(data).examples().subList(0, 5);
      Importance want = Importance.fisher(m, ex);
      for (String n : want.names()) {
        assertArrayEquals(want.values(n), f.values(n), n);
      }
    }

    // Only some parameters, merged online with the first file: 0.5 * F_old + F_new.
    Path out2 = tmp.resolve("online.safetensors");
    Run r2 = run("importance", "--model", model.toString(), "--data", data.toString(), "--out", out2.toString(),
        "--samples", "5", "--seq-len", "32", "--params", "lm_head", "--online-from", out.toString(), "--gamma", "0.5");
    assertEquals(0, r2.code(), r2.err() + r2.out());
    Importance g = Importance.load(out2);
    assertEquals(f.names(), g.names());
    float[] head = f.values("lm_head.weight");
    float[] merged = g.values("lm_head.weight");
    for (int i = 0; i < head.length; i++) {
      assertEquals(1.5f * head[i], merged[i], 1e-6f * Math.max(1f, Math.abs(head[i])));
    }
    float[] emb = f.values("model.embed_tokens.weight");
    float[] embMerged = g.values("model.embed_tokens.weight");
    for (int i = 0; i < emb.length; i++) {
      assertEquals(0.5f * emb[i], embMerged[i], 1e-6f * Math.max(1f, Math.abs(emb[i])));
    }
    assertTrue(g.metadata().get("retain.online").contains("0.5"));
  }

  @Test
  void badInputGivesOneClearLine() throws Exception {
    Path model = modelDir();
    Path out = tmp.resolve("f.safetensors");
    Run r = run("importance", "--model", model.toString(), "--data", tmp.resolve("missing.jsonl").toString(),
        "--out", out.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("retain: error: ") && r.err().contains("missing.jsonl"), r.err());
    Path data = Tiny.arithmetic(tmp.resolve("g.jsonl"), 3, 0);
    Run r2 = run("importance", "--model", model.toString(), "--data", data.toString(), "--out", out.toString(),
        "--params", "nothing-matches");
    assertEquals(2, r2.code());
    assertTrue(r2.err().contains("--params"), r2.err());
    assertFalse(Files.exists(out));
  }
}
