package dev.retain.model;

import dev.retain.model.safetensors.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Path;

/**
 * One architecture variant under src/test/resources/arch (written by tools/arch_vectors.py): the model
 * folder, the input ids and numpy's float64 logits and per-token loss for them.
 */
record ArchFixture(Path dir, long[] ids, float[] logits, float[] loss) {
  static ArchFixture load(String variant) throws IOException {
    Path dir = Path.of("src/test/resources/arch", variant);
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("expected.safetensors"))) {
      return new ArchFixture(dir, f.readLongs("input_ids"), f.readFloats("logits"), f.readFloats("loss_per_token"));
    }
  }
}
