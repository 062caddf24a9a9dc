package dev.retain.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
  @TempDir Path tmp;

  @Test
  void aFailedWriteLeavesThePreviousVersionAndNoTemporaryFile() throws IOException {
    Path target = tmp.resolve("out/report.json");
    AtomicFiles.writeString(target, "first");
    IOException cause = new IOException("No space left on device");
    IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(target, ch -> {
      ch.write(ByteBuffer.wrap("half of the sec".getBytes()));
      throw cause;
    }));
    assertSame(cause, e.getCause());
    assertTrue(e.getMessage().startsWith(target + ": could not be written (IOException: No space left on device"),
        e.getMessage());
    assertEquals("first", Files.readString(target));
    try (Stream<Path> s = Files.list(target.getParent())) {
      assertEquals(1, s.count(), "only the target remains");
    }
    AtomicFiles.writeString(target, "second");
    assertEquals("second", Files.readString(target));
  }
}
