package dev.retain.cli;

import static dev.retain.testutil.Reference.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.retain.model.CausalLM;
import dev.retain.model.ModelLoader;
import dev.retain.model.safetensors.SafetensorsFile;
import dev.retain.peft.PeftFixtures;
import dev.retain.peft.bottleneck.Bottleneck;
import dev.retain.peft.bottleneck.BottleneckConfig;
import dev.retain.testutil.Cli;
import dev.retain.testutil.Reference;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** retain export, run in-process: merged model, PEFT rewrite, refusals with exit code 2. */
class ExportCommandTest {
  @TempDir Path tmp;

  @Test
  void mergedModelLoadsAndReproducesTheAdapterLogits() throws Exception {
    Path ref = Reference.tiny();
    for (String name : new String[] {"lora-qv", "lora-all"}) {
      Path out = tmp.resolve("merged-" + name);
      Cli.Run r = Cli.run("export", "--model", ref.resolve("model").toString(), "--adapter", ref.resolve(name).toString(),
          "--merged", out.toString());
      assertEquals(0, r.code(), r.err());
      assertTrue(Files.isRegularFile(out.resolve("config.json")));
      assertTrue(Files.isRegularFile(out.resolve("generation_config.json")), "tokenizer/generation files are copied");
      long[] ids = PeftFixtures.inputIds();
      try (CausalLM merged = ModelLoader.load(out);
          SafetensorsFile want = SafetensorsFile.open(ref.resolve(name).resolve("reference.safetensors"));
          NDManager m = merged.manager().newSubManager()) {
        float[] logits = merged.logits(m.create(ids, new Shape(2, 24))).toFloatArray();
        assertClose(want.readFloats("logits_adapter"), logits, 1e-4, name + " merged export vs adapter");
        assertClose(want.readFloats("logits_merged"), logits, 1e-4, name + " merged export vs PEFT merge");
      }
    }
  }

  @Test
  void peftRoundTripKeepsTensorsAndConfig() throws Exception {
    Path ref = Reference.tiny();
    Path out = tmp.resolve("peft");
    Cli.Run r = Cli.run("export", "--model", ref.resolve("model").toString(), "--adapter", ref.resolve("lora-all").toString(),
        "--peft", out.toString());
    assertEquals(0, r.code(), r.err());
    PeftFixtures.assertSameTensors(ref.resolve("lora-all/adapter_model.safetensors"), out.resolve("adapter_model.safetensors"));
    PeftFixtures.assertEquivalentConfig(ref.resolve("lora-all/adapter_config.json"), out.resolve("adapter_config.json"));
    // Existing output is not replaced without --overwrite.
    r = Cli.run("export", "--model", ref.resolve("model").toString(), "--adapter", ref.resolve("lora-all").toString(),
        "--peft", out.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--overwrite"), r.err());
    r = Cli.run("export", "--model", ref.resolve("model").toString(), "--adapter", out.toString(), "--peft", out.toString(),
        "--overwrite");
    assertEquals(0, r.code(), r.err());
    PeftFixtures.assertSameTensors(ref.resolve("lora-all/adapter_model.safetensors"), out.resolve("adapter_model.safetensors"));
  }

  @Test
  void bottleneckCannotBeMergedExitCode2() throws Exception {
    Path ref = Reference.tiny();
    Path adapter = tmp.resolve("bn");
    try (CausalLM model = ModelLoader.load(ref.resolve("model"))) {
      Bottleneck.apply(model, BottleneckConfig.defaults(), 1).save(adapter, "model");
    }
    Path out = tmp.resolve("merged");
    Cli.Run r = Cli.run("export", "--model", ref.resolve("model").toString(), "--adapter", adapter.toString(),
        "--merged", out.toString());
    assertEquals(2, r.code());
    String msg = r.err();
    assertTrue(msg.startsWith("retain: error: ") && msg.contains("bottleneck") && msg.contains("cannot be merged"), msg);
    assertFalse(Files.exists(out));
  }

  @Test
  void badAdapterFoldersGiveOneLineNamingTheFile() throws Exception {
    Path ref = Reference.tiny();
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    Cli.Run r = Cli.run("export", "--model", ref.resolve("model").toString(), "--adapter", empty.toString(),
        "--merged", tmp.resolve("o").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains(empty.resolve("adapter_config.json").toString()), r.err());
    assertFalse(Files.exists(tmp.resolve("o")));
    r = Cli.run("export", "--model", ref.resolve("model").toString(), "--adapter", ref.resolve("lora-qv").toString());
    assertEquals(2, r.code(), "one of --merged / --peft is required");
    r = Cli.run("logits", "--model", ref.resolve("model").toString(), "--adapter", empty.toString(),
        "--input-ids", ref.resolve("inputs.safetensors").toString(), "--out", tmp.resolve("l.safetensors").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("adapter_config.json"), r.err());
  }

  @Test
  void logitsCommandWithTheAdapterReproducesPeft() throws Exception {
    Path ref = Reference.tiny();
    Path out = tmp.resolve("l.safetensors");
    Cli.Run r = Cli.run("logits", "--model", ref.resolve("model").toString(), "--adapter", ref.resolve("lora-qv").toString(),
        "--input-ids", ref.resolve("inputs.safetensors").toString(), "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    try (SafetensorsFile got = SafetensorsFile.open(out);
        SafetensorsFile want = SafetensorsFile.open(ref.resolve("lora-qv/reference.safetensors"))) {
      assertClose(want.readFloats("logits_adapter"), got.readFloats("logits"), 1e-4, "logits --adapter");
    }
  }
}
