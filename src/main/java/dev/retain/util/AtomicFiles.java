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
    write(target, ch -> {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      while (b.hasRemaining()) {
        ch.write(b);
      }
    });
  }

  /** What goes into a file written by {@link #write}. */
  @FunctionalInterface
  public interface Body {
    void write(FileChannel out) throws IOException;
  }

  /**
   * Writes {@code target} with what {@code body} writes: into a temporary file in the same folder,
   * forced to disk, renamed over the target, and the rename made durable. On any failure the
   * temporary file is removed and the previous version, if any, stays as it was.
   */
  public static void write(Path target, Body body) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = dir.resolve("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        body.write(ch);
        ch.force(true);
      }
      // A file is replaced by an atomic rename only: a plain move could leave it half there.
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException | RuntimeException | Error e) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // best effort; the original failure is what matters
      }
      if (e instanceof IOException io) {
        // The exception's type carries the reason where its message is only a path (AccessDenied...).
        String why = io.getClass().getSimpleName() + (io.getMessage() != null ? ": " + io.getMessage() : "");
        throw new IOException(target + ": could not be written (" + why
            + "; check free disk space and permissions of " + dir + "); the previous version, if any, is unchanged", io);
      }
      throw e;
    }
    syncDirectory(dir);
  }

  /** Makes a rename durable where the platform allows it (Linux); ignored elsewhere. */
  private static void syncDirectory(Path dir) {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException | RuntimeException ignored) {
      // not supported on this platform or file system; the data itself was already forced
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
