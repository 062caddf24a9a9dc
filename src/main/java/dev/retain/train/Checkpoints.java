package dev.retain.train;

import dev.retain.model.Parameter;
import dev.retain.model.safetensors.DType;
import dev.retain.model.safetensors.SafetensorsFile;
import dev.retain.model.safetensors.SafetensorsWriter;
import dev.retain.util.AtomicFiles;
import dev.retain.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Checkpoints under {@code out/checkpoints/step-NNNNNNNN/}: {@code trainable.safetensors} (the
 * trained weights by parameter name), {@code optimizer.safetensors} ({@code exp_avg.NAME} and
 * {@code exp_avg_sq.NAME}), {@code extra.safetensors} (tensors of retention terms, e.g. SI's path
 * integral) and {@code trainer_state.json}. Each is built in a staging folder and renamed into place,
 * so a crash or a full disk never leaves a broken checkpoint; only complete step folders exist.
 */
public final class Checkpoints {
  private static final Pattern STEP_DIR = Pattern.compile("step-(\\d+)");
  private final Path root;
  private final int keepLast;

  public Checkpoints(Path root, int keepLast) {
    this.root = root;
    this.keepLast = Math.max(1, keepLast);
  }

  public Path root() {
    return root;
  }

  /** What a checkpoint holds, in memory. */
  public record Contents(TrainerState state, Map<String, float[]> weights, Map<String, float[]> expAvg,
                         Map<String, float[]> expAvgSq, Map<String, float[]> extra) {}

  /** Writes a checkpoint for {@code state.step} and prunes older ones beyond keepLast. */
  public Path save(TrainerState state, Map<String, Parameter> trainable, AdamW optimizer,
                   Map<String, float[]> extraTensors) throws IOException {
    Path target = root.resolve(String.format("step-%08d", state.step));
    Path staging = AtomicFiles.stagingDirFor(target);
    try {
      SafetensorsWriter w = new SafetensorsWriter();
      for (Parameter p : trainable.values()) {
        w.addFloats(p.name(), DType.F32, p.data().getShape().getShape(), p.data().toFloatArray());
      }
      w.metadata(Map.of("format", "pt", "retain", "trainable weights"));
      w.write(staging.resolve("trainable.safetensors"));

      SafetensorsWriter o = new SafetensorsWriter();
      state.adamSteps.clear();
      for (Map.Entry<String, AdamW.State> e : optimizer.state().entrySet()) {
        long[] shape = e.getValue().m().getShape().getShape();
        o.addFloats("exp_avg." + e.getKey(), DType.F32, shape, e.getValue().m().toFloatArray());
        o.addFloats("exp_avg_sq." + e.getKey(), DType.F32, shape, e.getValue().v().toFloatArray());
        state.adamSteps.put(e.getKey(), e.getValue().t());
      }
      o.metadata(Map.of("format", "pt", "retain", "AdamW moments"));
      o.write(staging.resolve("optimizer.safetensors"));
      dev.retain.util.Faults.point("checkpoint.mid-write", state.step);

      SafetensorsWriter x = new SafetensorsWriter();
      for (Map.Entry<String, float[]> e : extraTensors.entrySet()) {
        x.addFloats(e.getKey(), DType.F32, new long[] {e.getValue().length}, e.getValue());
      }
      x.write(staging.resolve("extra.safetensors"));
      AtomicFiles.writeString(staging.resolve("trainer_state.json"), Json.PRETTY.writeValueAsString(state) + "\n");
      AtomicFiles.publish(staging, target);
    } catch (IOException | RuntimeException e) {
      AtomicFiles.deleteTree(staging);
      throw new IOException("checkpoint " + target + " could not be written (" + e.getMessage()
          + "); the previous checkpoint is intact" + (isDiskFull(e) ? ". The disk looks full: free space or move --out" : ""), e);
    }
    prune();
    return target;
  }

  private static boolean isDiskFull(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = String.valueOf(t.getMessage());
      if (m.contains("No space left") || m.contains("Disk quota")) {
        return true;
      }
    }
    return false;
  }

  private void prune() throws IOException {
    List<Path> all = list();
    for (int i = 0; i < all.size() - keepLast; i++) {
      AtomicFiles.deleteTree(all.get(i));
    }
    // Staging folders of a crashed write are garbage.
    try (Stream<Path> s = Files.list(root)) {
      for (Path p : s.filter(p -> p.getFileName().toString().startsWith(".step-")).toList()) {
        AtomicFiles.deleteTree(p);
      }
    }
  }

  /** Complete checkpoint folders, oldest first. */
  public List<Path> list() throws IOException {
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(root)) {
      List<Path> dirs = new ArrayList<>(s.filter(p -> STEP_DIR.matcher(p.getFileName().toString()).matches()
          && Files.isRegularFile(p.resolve("trainer_state.json"))).toList());
      dirs.sort(Comparator.comparingLong(Checkpoints::stepOf));
      return dirs;
    }
  }

  public Optional<Path> latest() throws IOException {
    List<Path> all = list();
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  static long stepOf(Path dir) {
    Matcher m = STEP_DIR.matcher(dir.getFileName().toString());
    return m.matches() ? Long.parseLong(m.group(1)) : -1;
  }

  /** Reads a checkpoint folder fully (it is small next to the model: trainable parts only). */
  public static Contents load(Path dir) throws IOException {
    TrainerState state;
    try {
      state = Json.MAPPER.readValue(dir.resolve("trainer_state.json").toFile(), TrainerState.class);
    } catch (IOException e) {
      throw new IOException(dir.resolve("trainer_state.json") + ": unreadable (" + e.getMessage() + ")", e);
    }
    Map<String, float[]> weights = readAll(dir.resolve("trainable.safetensors"), "");
    Map<String, float[]> m = readAll(dir.resolve("optimizer.safetensors"), "exp_avg.");
    Map<String, float[]> v = readAll(dir.resolve("optimizer.safetensors"), "exp_avg_sq.");
    Map<String, float[]> extra = Files.exists(dir.resolve("extra.safetensors"))
        ? readAll(dir.resolve("extra.safetensors"), "") : Map.of();
    return new Contents(state, weights, m, v, extra);
  }

  private static Map<String, float[]> readAll(Path file, String prefix) throws IOException {
    Map<String, float[]> out = new java.util.LinkedHashMap<>();
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      for (String n : f.names()) {
        if (prefix.isEmpty() || n.startsWith(prefix)) {
          out.put(prefix.isEmpty() ? n : n.substring(prefix.length()), f.readFloats(n));
        }
      }
    }
    return out;
  }
}
