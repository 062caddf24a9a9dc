package dev.retain.util;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Files and folders that appear whole or not at all: written under a temporary name in the same
 * folder, forced to disk, then renamed. A crash or a full disk leaves the previous version intact.
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  public static void writeString(Path target, String text) throws IOException {
    writeBytes(target, text.getBytes(StandardCharsets.UTF_8));
  }

  public static void writeBytes(Path target, byte[] bytes) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = dir.resolve("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
          ch.write(b);
        }
        ch.force(true);
      }
      move(tmp, target);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw new IOException(target + ": could not be written (" + e.getMessage() + "); the previous version, if any, is unchanged", e);
    }
  }

  /** A fresh temporary folder beside {@code target}, to fill and then {@link #publish}. */
  public static Path stagingDirFor(Path target) throws IOException {
    Path abs = target.toAbsolutePath();
    Files.createDirectories(abs.getParent());
    return Files.createDirectory(abs.getParent().resolve("." + abs.getFileName() + ".staging-" + UUID.randomUUID()));
  }

  /**
   * Renames the filled staging folder to {@code target}. An existing target is first renamed aside
   * and deleted only after the new one is in place.
   */
  public static void publish(Path staging, Path target) throws IOException {
    Path abs = target.toAbsolutePath();
    Path old = null;
    if (Files.exists(abs)) {
      old = abs.getParent().resolve("." + abs.getFileName() + ".old-" + UUID.randomUUID());
      move(abs, old);
    }
    move(staging, abs);
    if (old != null) {
      deleteTree(old);
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Deletes a folder and everything in it; missing is fine. */
  public static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
