package dev.retain.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.retain.config.ConfigDocs;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/config.md is generated from {@link RunConfig}; regenerate with -Dretain.regenerate=true. */
class ConfigDocsInSyncTest {
  @Test
  void committedReferenceMatchesTheCode() throws Exception {
    Path file = Path.of("docs/config.md");
    String expected = ConfigDocs.markdown(RunConfig.class);
    if (Boolean.getBoolean("retain.regenerate")) {
      Files.writeString(file, expected);
    }
    assertEquals(expected, Files.readString(file),
        "docs/config.md is out of date: run mvn test -Dtest=ConfigDocsInSyncTest -Dretain.regenerate=true");
  }
}
