package dev.retain.model.safetensors;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/** Write-to-temp, fsync, atomic-rename; shared by the file and checkpoint writers. */
final class AtomicWrite {
    private AtomicWrite() {
    }

    @FunctionalInterface
    interface Body {
        void write(FileChannel out) throws IOException;
    }

    /**
     * Writes {@code target} atomically: the body writes a temporary file in the same directory,
     * which is forced to disk and then moved over the target. On any failure the temporary file is
     * deleted and a {@link SafetensorsException} naming the target is thrown (Errors and runtime
     * exceptions are rethrown after the cleanup).
     */
    static void write(Path target, Body body) throws SafetensorsException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new SafetensorsException(target + ": cannot write, the directory " + dir
                    + " does not exist; create it first");
        }
        String base = abs.getFileName().toString();
        Path tmp = dir.resolve("." + base + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
                + ".tmp");
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                body.write(ch);
                ch.force(true);
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            done = true;
            syncDirectory(dir);
        } catch (SafetensorsException e) {
            throw e;
        } catch (IOException e) {
            throw new SafetensorsException(target + ": cannot write: " + e
                    + " (check free disk space and permissions of " + dir + ")", e);
        } finally {
            if (!done) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort; the original failure is what matters
                }
            }
        }
    }

    /** Makes the rename durable where the platform allows it (Linux); ignored elsewhere. */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | RuntimeException ignored) {
            // not supported on this platform/filesystem; the data itself was already forced
        }
    }
}
