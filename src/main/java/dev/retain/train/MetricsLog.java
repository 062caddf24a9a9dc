package dev.retain.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.retain.util.Json;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * metrics.jsonl: one JSON object per logged step or evaluation, flushed at once so a crashed run
 * keeps everything it logged. On resume the lines after the checkpoint's step are dropped, so the
 * file reads as one uninterrupted run.
 */
public final class MetricsLog implements AutoCloseable {
  private final BufferedWriter out;

  public MetricsLog(Path file, long resumeStep) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    if (resumeStep >= 0 && Files.exists(file)) {
      StringBuilder kept = new StringBuilder();
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        try {
          if (Json.MAPPER.readTree(line).path("step").asLong(Long.MAX_VALUE) <= resumeStep) {
            kept.append(line).append('\n');
          }
        } catch (IOException e) {
          // A line cut by a crash: drop it.
        }
      }
      dev.retain.util.AtomicFiles.writeString(file, kept.toString());
    } else {
      Files.deleteIfExists(file);
    }
    out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  public ObjectNode newRecord(String kind, long step) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("kind", kind);
    n.put("step", step);
    return n;
  }

  public void write(ObjectNode record) {
    try {
      out.write(Json.MAPPER.writeValueAsString(record));
      out.write('\n');
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("metrics.jsonl could not be written: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() throws IOException {
    out.close();
  }
}
