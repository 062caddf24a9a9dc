package dev.retain.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import dev.retain.model.CausalLM;
import dev.retain.model.ModelLoader;
import dev.retain.model.safetensors.SafetensorsFile;
import dev.retain.testutil.Reference;
import dev.retain.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** Shared helpers for the PEFT tests: the reference model, its inputs, file comparisons. */
public final class PeftFixtures {
  private PeftFixtures() {}

  public static CausalLM referenceModel() throws IOException {
    return ModelLoader.load(Reference.tiny().resolve("model"));
  }

  public static long[] inputIds() throws IOException {
    try (SafetensorsFile in = SafetensorsFile.open(Reference.tiny().resolve("inputs.safetensors"))) {
      return in.readLongs("input_ids");
    }
  }

  public static NDArray input(NDManager m, long[] ids) {
    return m.create(ids, new Shape(2, ids.length / 2));
  }

  /** Logits of the model on the reference inputs. */
  public static float[] logits(CausalLM model, long[] ids) {
    try (NDManager m = model.manager().newSubManager()) {
      return model.logits(input(m, ids)).toFloatArray();
    }
  }

  /** Mean next-token loss on the reference inputs. */
  public static float meanLoss(CausalLM model, long[] ids) {
    try (NDManager m = model.manager().newSubManager()) {
      NDArray in = input(m, ids);
      return CausalLM.nextTokenLoss(model.logits(in), in).mean().getFloat();
    }
  }

  public static Map<String, float[]> readAll(Path file) throws IOException {
    Map<String, float[]> out = new LinkedHashMap<>();
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      for (String n : f.names()) {
        out.put(n, f.readFloats(n));
      }
    }
    return out;
  }

  /** Both safetensors files hold the same names, shapes and bit-identical values. */
  public static void assertSameTensors(Path expected, Path actual) throws IOException {
    try (SafetensorsFile e = SafetensorsFile.open(expected); SafetensorsFile a = SafetensorsFile.open(actual)) {
      assertEquals(new HashSet<>(e.names()), new HashSet<>(a.names()), "tensor names of " + actual);
      for (String n : e.names()) {
        assertEquals(e.info(n).dtype(), a.info(n).dtype(), n);
        assertTrue(java.util.Arrays.equals(e.info(n).shape(), a.info(n).shape()), n + " shape");
        float[] x = e.readFloats(n);
        float[] y = a.readFloats(n);
        for (int i = 0; i < x.length; i++) {
          assertEquals(Float.floatToRawIntBits(x[i]), Float.floatToRawIntBits(y[i]), n + "[" + i + "] differs");
        }
      }
    }
  }

  /** Same keys and values; target_modules compared as sets. */
  public static void assertEquivalentConfig(Path expected, Path actual) throws IOException {
    JsonNode e = Json.MAPPER.readTree(Files.readString(expected));
    JsonNode a = Json.MAPPER.readTree(Files.readString(actual));
    Set<String> ek = new HashSet<>();
    e.fieldNames().forEachRemaining(ek::add);
    Set<String> ak = new HashSet<>();
    a.fieldNames().forEachRemaining(ak::add);
    assertEquals(ek, ak, "keys of " + actual);
    for (Iterator<String> it = e.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (k.equals("target_modules") && e.get(k).isArray()) {
        Set<String> es = new HashSet<>();
        e.get(k).forEach(n -> es.add(n.asText()));
        Set<String> as = new HashSet<>();
        a.get(k).forEach(n -> as.add(n.asText()));
        assertEquals(es, as, k);
      } else if (e.get(k).isNumber()) {
        assertEquals(e.get(k).doubleValue(), a.get(k).doubleValue(), 0.0, k);
        assertEquals(e.get(k).isIntegralNumber(), a.get(k).isIntegralNumber(), k + " integer or float");
      } else {
        assertEquals(e.get(k), a.get(k), k);
      }
    }
  }

  /** |a-b| <= max(abs, rel*|a|) elementwise. */
  public static void assertGradClose(float[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what + " length");
    double worst = 0;
    int at = -1;
    for (int i = 0; i < expected.length; i++) {
      double tol = Math.max(1e-4, 1e-3 * Math.abs(expected[i]));
      double d = Math.abs((double) expected[i] - actual[i]);
      if (d - tol > worst) {
        worst = d - tol;
        at = i;
      }
    }
    assertTrue(at < 0, what + ": element " + at + " expected " + (at < 0 ? 0 : expected[at]) + " got "
        + (at < 0 ? 0 : actual[at]));
  }
}
