package dev.retain.model.safetensors;

import dev.retain.util.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The file and checkpoint writers' atomic write: {@link AtomicFiles#write} (temporary file, fsync,
 * rename, directory sync), with failures reported as {@link SafetensorsException}.
 */
final class AtomicWrite {
    private AtomicWrite() {
    }

    /**
     * Writes {@code target} atomically with what {@code body} writes. The directory must exist. On any
     * failure nothing is left behind and the previous file, if any, is unchanged.
     */
    static void write(Path target, AtomicFiles.Body body) throws SafetensorsException {
        Path dir = target.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new SafetensorsException(target + ": cannot write, the directory " + dir
                    + " does not exist; create it first");
        }
        try {
            AtomicFiles.write(target, body);
        } catch (SafetensorsException e) {
            throw e;
        } catch (IOException e) {
            if (e.getCause() instanceof SafetensorsException inner) {
                throw inner; // the body's own error already names the file and the fix
            }
            throw new SafetensorsException(e.getMessage(), e);
        }
    }
}
