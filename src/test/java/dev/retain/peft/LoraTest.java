package dev.retain.peft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.retain.model.CausalLM;
import dev.retain.model.Linear;
import dev.retain.model.Parameter;
import dev.retain.model.safetensors.DType;
import dev.retain.model.safetensors.SafetensorsWriter;
import dev.retain.peft.lora.Lora;
import dev.retain.peft.lora.LoraConfig;
import dev.retain.peft.lora.LoraLayer;
import dev.retain.peft.lora.LoraModel;
import dev.retain.peft.lora.TargetModules;
import dev.retain.tensor.Backend;
import dev.retain.testutil.Reference;
import dev.retain.train.ParamSelector;
import dev.retain.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LoRA built in Java: initialisation, targets, scaling, on/off, dropout, saving and clear errors. */
class LoraTest {
  static long[] ids;
  static float[] baseLogits;
  @TempDir Path tmp;

  @BeforeAll
  static void base() throws Exception {
    ids = PeftFixtures.inputIds();
    try (CausalLM model = PeftFixtures.referenceModel()) {
      baseLogits = PeftFixtures.logits(model, ids);
    }
  }

  @AfterAll
  static void done() {
    ids = null;
  }

  private static void fillB(LoraModel lora, long seed, float std) {
    SplittableRandom rng = new SplittableRandom(seed);
    for (LoraLayer l : lora.layers().values()) {
      Parameter b = l.loraB();
      float[] v = new float[(int) b.numel()];
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) ((rng.nextDouble() * 2 - 1) * std);
      }
      NDArray a = b.data().getManager().create(v, b.data().getShape());
      NDScope.unregister(a);
      b.set(a);
    }
  }

  @Test
  void freshLoraLeavesLogitsUnchangedAndFreezesTheBase() throws Exception {
    try (CausalLM model = PeftFixtures.referenceModel()) {
      LoraModel lora = Lora.apply(model, LoraConfig.defaults(), 7);
      assertEquals(4, lora.layers().size());
      assertArrayEquals(baseLogits, PeftFixtures.logits(model, ids));
      for (Parameter p : model.parameters().values()) {
        assertFalse(p.trainable(), p.name());
      }
      for (Parameter p : lora.parameters()) {
        assertTrue(p.trainable(), p.name());
      }
      assertTrue(lora.parameterNames().contains("model.layers.0.self_attn.q_proj.lora_A.weight"));
      assertTrue(lora.parameterNames().contains("model.layers.1.self_attn.v_proj.lora_B.weight"));
      assertTrue(model.allParameters().keySet().containsAll(lora.parameterNames()));
      // The trainer's selector finds them as adapters.
      Set<String> sel = ParamSelector.parse("adapters").select(model.allParameters().keySet(), lora.parameterNames(),
          model.config.numLayers, false);
      assertEquals(lora.parameterNames(), sel);
      assertEquals(4L * (8 * 64 + 64 * 8), lora.numParameters());
    }
  }

  @Test
  void initialisationIsKaimingUniformSeededPerModule() throws Exception {
    try (CausalLM m1 = PeftFixtures.referenceModel(); CausalLM m2 = PeftFixtures.referenceModel();
        CausalLM m3 = PeftFixtures.referenceModel()) {
      LoraModel a = Lora.apply(m1, LoraConfig.defaults(), 42);
      LoraModel b = Lora.apply(m2, LoraConfig.defaults().withTargets(TargetModules.allLinear()), 42);
      LoraModel c = Lora.apply(m3, LoraConfig.defaults(), 43);
      String q = "model.layers.1.self_attn.q_proj";
      float[] aq = a.layers().get(q).loraA().data().toFloatArray();
      // Same seed: same values for the same module, whatever else is targeted.
      assertArrayEquals(aq, b.layers().get(q).loraA().data().toFloatArray());
      assertFalse(java.util.Arrays.equals(aq, c.layers().get(q).loraA().data().toFloatArray()));
      double bound = 1 / Math.sqrt(64);
      double max = 0;
      for (float v : aq) {
        max = Math.max(max, Math.abs(v));
      }
      assertTrue(max <= bound && max > 0.9 * bound, "max |A| " + max + " vs bound " + bound);
      for (float v : a.layers().get(q).loraB().data().toFloatArray()) {
        assertEquals(0f, v);
      }
      // down_proj has in_features 176.
      float[] down = b.layers().get("model.layers.0.mlp.down_proj").loraA().data().toFloatArray();
      assertEquals(8 * 176, down.length);
      for (float v : down) {
        assertTrue(Math.abs(v) <= 1 / Math.sqrt(176));
      }
    }
  }

  @Test
  void adaptersOffGiveTheBaseModelExactlyEvenWithNonZeroB() throws Exception {
    try (CausalLM model = PeftFixtures.referenceModel()) {
      LoraModel lora = Lora.apply(model, LoraConfig.defaults().withTargets(TargetModules.allLinear()), 3);
      fillB(lora, 5, 0.1f);
      float[] on = PeftFixtures.logits(model, ids);
      assertTrue(Reference.maxAbsDiff(baseLogits, on) > 1e-3, "non-zero B must change the logits");
      lora.setEnabled(false);
      assertArrayEquals(baseLogits, PeftFixtures.logits(model, ids));
      model.setAdaptersEnabled(true);
      assertArrayEquals(on, PeftFixtures.logits(model, ids));
      model.setAdaptersEnabled(false);
      assertArrayEquals(baseLogits, PeftFixtures.logits(model, ids));
    }
  }

  @Test
  void rsLoraScalingIsAlphaOverSqrtRCheckedByHand() throws Exception {
    try (CausalLM model = PeftFixtures.referenceModel(); NDManager m = Backend.newManager()) {
      LoraConfig cfg = new LoraConfig(4, 16, 0, true, TargetModules.names("q_proj"), List.of(0));
      LoraModel lora = Lora.apply(model, cfg, 11);
      assertEquals(1, lora.layers().size());
      LoraLayer l = lora.layers().get("model.layers.0.self_attn.q_proj");
      assertEquals(8.0f, l.scaling()); // 16 / sqrt(4)
      assertEquals(4.0f, Lora.apply(PeftFixtures.referenceModel(), cfg.withRslora(false), 11)
          .layers().get("model.layers.0.self_attn.q_proj").scaling()); // 16 / 4
      fillB(lora, 9, 0.5f);
      float[] a = l.loraA().data().toFloatArray(); // [4, 64]
      float[] b = l.loraB().data().toFloatArray(); // [64, 4]
      float[] x = new float[64];
      SplittableRandom rng = new SplittableRandom(1);
      for (int i = 0; i < 64; i++) {
        x[i] = (float) rng.nextDouble();
      }
      // By hand: 8 * B (A x).
      double[] ax = new double[4];
      for (int k = 0; k < 4; k++) {
        for (int i = 0; i < 64; i++) {
          ax[k] += a[k * 64 + i] * x[i];
        }
      }
      float[] want = new float[64];
      for (int o = 0; o < 64; o++) {
        double s = 0;
        for (int k = 0; k < 4; k++) {
          s += b[o * 4 + k] * ax[k];
        }
        want[o] = (float) (8 * s);
      }
      float[] got = l.delta(m.create(x, new Shape(1, 64))).toFloatArray();
      Reference.assertClose(want, got, 1e-5, "rsLoRA delta");
      // The adapted layer (base and delta summed in one addmm) gives W x + delta, also for [B, T, in].
      float[] w = l.base().weight.data().toFloatArray();
      float[] wantOut = new float[64];
      for (int o = 0; o < 64; o++) {
        double s = 0;
        for (int i = 0; i < 64; i++) {
          s += w[o * 64 + i] * x[i];
        }
        wantOut[o] = (float) s + want[o];
      }
      NDArray out = l.base().forward(m.create(x, new Shape(1, 1, 64)));
      assertEquals(new Shape(1, 1, 64), out.getShape());
      Reference.assertClose(wantOut, out.toFloatArray(), 1e-5, "W x + rsLoRA delta");
      // deltaWeight = 8 * B A, and delta(x) = x deltaWeight^T.
      float[] dw = l.deltaWeight().toFloatArray();
      assertEquals(64 * 64, dw.length);
      double d00 = 0;
      for (int k = 0; k < 4; k++) {
        d00 += b[k] * a[k * 64];
      }
      assertEquals(8 * d00, dw[0], 1e-6);
    }
  }

  @Test
  void allLinearSelectsTheSevenProjectionsOfEveryLayerAndNotLmHead() throws Exception {
    try (CausalLM model = PeftFixtures.referenceModel()) {
      LoraModel lora = Lora.apply(model, LoraConfig.defaults().withTargets(TargetModules.parseSpec("all-linear")), 1);
      assertEquals(14, lora.layers().size());
      Set<String> suffixes = new TreeSet<>();
      for (String n : lora.layers().keySet()) {
        assertTrue(n.startsWith("model.layers."), n);
        suffixes.add(n.substring(n.lastIndexOf('.') + 1));
      }
      assertEquals(new TreeSet<>(List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")), suffixes);
      assertNull(model.lmHead.adapter());
      lora.save(tmp.resolve("a"), "base");
      JsonNode cfg = Json.MAPPER.readTree(tmp.resolve("a/adapter_config.json").toFile());
      Set<String> saved = new TreeSet<>();
      cfg.get("target_modules").forEach(n -> saved.add(n.asText()));
      assertEquals(suffixes, saved, "all-linear is saved resolved, as PEFT does");
      assertEquals("base", cfg.get("base_model_name_or_path").asText());
    }
  }

  @Test
  void layersToTransformAndRegexRestrictTheTargets() throws Exception {
    try (CausalLM model = PeftFixtures.referenceModel()) {
      LoraModel lora = Lora.apply(model, LoraConfig.defaults().withTargets(TargetModules.allLinear()).withLayers(List.of(1)), 1);
      assertEquals(7, lora.layers().size());
      assertTrue(lora.layers().keySet().stream().allMatch(n -> n.startsWith("model.layers.1.")));
      for (Linear l : model.layers.get(0).linears()) {
        assertNull(l.adapter());
      }
    }
    try (CausalLM model = PeftFixtures.referenceModel()) {
      LoraModel lora = Lora.apply(model,
          LoraConfig.defaults().withTargets(TargetModules.regex("model\\.layers\\.0\\.mlp\\.(up|down)_proj")), 1);
      assertEquals(Set.of("model.layers.0.mlp.up_proj", "model.layers.0.mlp.down_proj"), lora.layers().keySet());
      lora.save(tmp.resolve("re"), null);
    }
    JsonNode cfg = Json.MAPPER.readTree(tmp.resolve("re/adapter_config.json").toFile());
    assertTrue(cfg.get("target_modules").isTextual());
    try (CausalLM model = PeftFixtures.referenceModel()) {
      LoraModel back = Lora.load(tmp.resolve("re"), model);
      assertEquals(Set.of("model.layers.0.mlp.up_proj", "model.layers.0.mlp.down_proj"), back.layers().keySet());
    }
  }

  @Test
  void rankAndAlphaPatternsFollowPeft() throws Exception {
    try (CausalLM model = PeftFixtures.referenceModel()) {
      LoraConfig cfg = new LoraConfig(8, 16, 0, false, TargetModules.names("q_proj", "v_proj"), null,
          Map.of("layers.1.self_attn.q_proj", 2), Map.of("v_proj", 4.0));
      LoraModel lora = Lora.apply(model, cfg, 1);
      assertEquals(2, lora.layers().get("model.layers.1.self_attn.q_proj").rank());
      assertEquals(8, lora.layers().get("model.layers.0.self_attn.q_proj").rank());
      assertEquals(0.5f, lora.layers().get("model.layers.0.self_attn.v_proj").scaling()); // 4 / 8
      fillB(lora, 2, 0.1f);
      float[] before = PeftFixtures.logits(model, ids);
      lora.save(tmp.resolve("p"), null);
      try (CausalLM again = PeftFixtures.referenceModel()) {
        Lora.load(tmp.resolve("p"), again);
        assertArrayEquals(before, PeftFixtures.logits(again, ids));
      }
    }
  }

  @Test
  void dropoutActsOnlyInTrainingMode() throws Exception {
    try (CausalLM model = PeftFixtures.referenceModel(); NDManager m = Backend.newManager()) {
      LoraModel lora = Lora.apply(model, LoraConfig.defaults().withDropout(0.5), 1);
      fillB(lora, 3, 0.2f);
      LoraLayer l = lora.layers().get("model.layers.0.self_attn.q_proj");
      NDArray x = m.ones(new Shape(4, 64));
      float[] eval = l.delta(x).toFloatArray();
      assertArrayEquals(eval, l.delta(x).toFloatArray(), "no dropout outside training");
      lora.setTraining(true);
      Backend.seed(5);
      float[] t1 = l.delta(x).toFloatArray();
      assertNotEquals(Reference.maxAbsDiff(eval, t1), 0.0);
      Backend.seed(5);
      assertArrayEquals(t1, l.delta(x).toFloatArray(), "seeded dropout is reproducible");
      // the layer's own path (base + delta in one addmm) draws the same mask
      Backend.seed(5);
      NDArray zero = m.zeros(new Shape(4, 64));
      Reference.assertClose(t1, l.output(x, zero).toFloatArray(), 1e-6, "output(x, 0) = delta(x) under dropout");
      lora.setTraining(false);
      assertArrayEquals(eval, l.delta(x).toFloatArray());
    }
  }

  @Test
  void mergedAdaptersRefuseToBeSwitchedAndUnloadLeavesAPlainModel() throws Exception {
    try (CausalLM model = PeftFixtures.referenceModel()) {
      LoraModel lora = Lora.apply(model, LoraConfig.defaults(), 1);
      fillB(lora, 3, 0.2f);
      float[] adapted = PeftFixtures.logits(model, ids);
      lora.merge();
      assertThrows(IllegalStateException.class, () -> model.setAdaptersEnabled(false));
      Reference.assertClose(adapted, PeftFixtures.logits(model, ids), 1e-4, "merged");
      lora.mergeAndUnload();
      for (Linear l : model.linears().values()) {
        assertNull(l.adapter());
      }
      assertEquals(model.parameters().size(), model.allParameters().size());
      Reference.assertClose(adapted, PeftFixtures.logits(model, ids), 1e-4, "merged and unloaded");
    }
  }

  @Test
  void configErrorsAreClear() throws Exception {
    try (CausalLM model = PeftFixtures.referenceModel()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Lora.apply(model, LoraConfig.defaults().withTargets(TargetModules.names("q_proj", "qkv_proj")), 1));
      assertTrue(e.getMessage().contains("qkv_proj") && e.getMessage().contains("q_proj"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> Lora.apply(model, LoraConfig.defaults().withLayers(List.of(0, 5)), 1));
      assertTrue(e.getMessage().contains("layer 5"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> Lora.apply(model, LoraConfig.defaults().withTargets(TargetModules.names("lm_head")), 1));
      assertTrue(e.getMessage().contains("lm_head"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> LoraConfig.defaults().withRank(0));
      assertTrue(e.getMessage().contains("r must be a positive integer"), e.getMessage());
      Lora.apply(model, LoraConfig.defaults(), 1);
      e = assertThrows(IllegalArgumentException.class, () -> Lora.apply(model, LoraConfig.defaults(), 1));
      assertTrue(e.getMessage().contains("already carries an adapter"), e.getMessage());
    }
  }

  /** A copy of a reference LoRA folder whose adapter_config.json we may edit. */
  private Path copyOf(String name) throws Exception {
    Path src = Reference.tiny().resolve(name);
    Path dst = tmp.resolve("copy-" + name);
    Files.createDirectories(dst);
    for (String f : List.of(AdapterFiles.CONFIG, AdapterFiles.WEIGHTS)) {
      Files.copy(src.resolve(f), dst.resolve(f), StandardCopyOption.REPLACE_EXISTING);
      dst.resolve(f).toFile().setWritable(true);
    }
    return dst;
  }

  private static void editConfig(Path dir, java.util.function.Consumer<ObjectNode> edit) throws Exception {
    ObjectNode j = (ObjectNode) Json.MAPPER.readTree(dir.resolve(AdapterFiles.CONFIG).toFile());
    edit.accept(j);
    Files.writeString(dir.resolve(AdapterFiles.CONFIG), Json.PRETTY.writeValueAsString(j));
  }

  private static String loadError(Path dir) throws Exception {
    try (CausalLM model = PeftFixtures.referenceModel()) {
      AdapterException e = assertThrows(AdapterException.class, () -> AdapterFolder.load(model, dir, false));
      // Nothing was attached on failure.
      for (Linear l : model.linears().values()) {
        assertNull(l.adapter(), l.name);
      }
      return e.getMessage();
    }
  }

  @Test
  void missingAdapterConfigIsNamed() throws Exception {
    Path dir = copyOf("lora-qv");
    Files.delete(dir.resolve(AdapterFiles.CONFIG));
    String msg = loadError(dir);
    assertTrue(msg.contains(dir.resolve("adapter_config.json").toString()) && msg.contains("missing"), msg);
    msg = loadError(tmp.resolve("nowhere"));
    assertTrue(msg.contains("nowhere") && msg.contains("not found"), msg);
  }

  @Test
  void otherPeftMethodsAreRefused() throws Exception {
    Path dir = copyOf("lora-qv");
    editConfig(dir, j -> j.put("peft_type", "PREFIX_TUNING"));
    String msg = loadError(dir);
    assertTrue(msg.contains("adapter_config.json") && msg.contains("PREFIX_TUNING") && msg.contains("LORA"), msg);
  }

  @Test
  void aTensorWithTheWrongShapeIsNamed() throws Exception {
    Path dir = copyOf("lora-qv");
    editConfig(dir, j -> j.put("r", 4));
    String msg = loadError(dir);
    assertTrue(msg.contains("adapter_model.safetensors") && msg.contains("lora_A.weight") && msg.contains("[8, 64]")
        && msg.contains("[4, 64]"), msg);

    Path dir2 = tmp.resolve("bad-shape");
    Files.createDirectories(dir2);
    Files.copy(Reference.tiny().resolve("lora-qv/adapter_config.json"), dir2.resolve(AdapterFiles.CONFIG));
    Map<String, float[]> t = PeftFixtures.readAll(Reference.tiny().resolve("lora-qv/adapter_model.safetensors"));
    SafetensorsWriter w = new SafetensorsWriter();
    try (var f = dev.retain.model.safetensors.SafetensorsFile.open(Reference.tiny().resolve("lora-qv/adapter_model.safetensors"))) {
      for (String n : f.names()) {
        long[] shape = f.info(n).shape();
        if (n.equals("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight")) {
          w.addFloats(n, DType.F32, new long[] {32, 16}, t.get(n));
        } else {
          w.addFloats(n, DType.F32, shape, t.get(n));
        }
      }
    }
    w.write(dir2.resolve(AdapterFiles.WEIGHTS));
    msg = loadError(dir2);
    assertTrue(msg.contains("adapter_model.safetensors") && msg.contains("layers.1.self_attn.v_proj.lora_B.weight")
        && msg.contains("[32, 16]") && msg.contains("[64, 8]"), msg);
  }

  @Test
  void missingExtraAndUnknownAreNamed() throws Exception {
    Path dir = copyOf("lora-all");
    editConfig(dir, j -> j.putArray("target_modules").add("q_proj").add("v_proj"));
    String msg = loadError(dir);
    assertTrue(msg.contains("does not account for") && msg.contains("mlp"), msg);

    Path dir2 = copyOf("lora-qv");
    editConfig(dir2, j -> j.putArray("target_modules").add("q_proj").add("v_proj").add("k_proj"));
    msg = loadError(dir2);
    assertTrue(msg.contains("k_proj.lora_A.weight") && msg.contains("missing"), msg);

    Path dir3 = copyOf("lora-qv");
    editConfig(dir3, j -> j.putArray("target_modules").add("q_proj").add("c_attn"));
    msg = loadError(dir3);
    assertTrue(msg.contains("adapter_config.json") && msg.contains("c_attn") && msg.contains("match no linear"), msg);

    Path dir4 = copyOf("lora-qv");
    editConfig(dir4, j -> j.put("r", 0));
    msg = loadError(dir4);
    assertTrue(msg.contains("adapter_config.json") && msg.contains("'r'") && msg.contains("positive"), msg);

    Path dir5 = copyOf("lora-qv");
    Files.delete(dir5.resolve(AdapterFiles.WEIGHTS));
    msg = loadError(dir5);
    assertTrue(msg.contains("adapter_model.safetensors") && msg.contains("missing"), msg);

    Path dir6 = copyOf("lora-qv");
    editConfig(dir6, j -> j.put("use_dora", true));
    msg = loadError(dir6);
    assertTrue(msg.contains("use_dora"), msg);
  }

  @Test
  void peftFoldersWithRegexTargetsAndRsLoraLoad() throws Exception {
    Path dir = copyOf("lora-qv");
    editConfig(dir, j -> {
      j.put("target_modules", ".*\\.(v|q)_proj");
      j.put("use_rslora", true);
    });
    try (CausalLM model = PeftFixtures.referenceModel()) {
      LoraModel lora = Lora.load(dir, model);
      assertEquals(4, lora.layers().size());
      for (LoraLayer l : lora.layers().values()) {
        assertEquals((float) (16 / Math.sqrt(8)), l.scaling());
        assertFalse(l.loraA().trainable());
      }
    }
  }
}
