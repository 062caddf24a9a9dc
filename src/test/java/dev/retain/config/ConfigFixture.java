package dev.retain.config;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** A temporary folder with a model folder and two data files, plus helpers to load run.yaml. */
final class ConfigFixture {
  final Path dir;
  final Path file;
  final String f;

  ConfigFixture(Path dir) {
    this.dir = dir;
    this.file = dir.resolve("run.yaml");
    this.f = file.toString();
    try {
      Files.createDirectories(dir.resolve("models/llama"));
      Files.createDirectories(dir.resolve("data"));
      Files.writeString(dir.resolve("data/domain.jsonl"), "{}\n");
      Files.writeString(dir.resolve("data/general.jsonl"), "{}\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The smallest valid file: lines 1-3. */
  static final String BASE = "name: demo\nmodel:\n  path: models/llama\n";

  Path write(String yaml) {
    try {
      Files.writeString(file, yaml);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  SampleConfigs.Run load(String yaml, String... overrides) {
    return ConfigBinder.load(write(yaml), SampleConfigs.Run.class, List.of(overrides));
  }

  ConfigException fail(String yaml, String... overrides) {
    return assertThrows(ConfigException.class, () -> load(yaml, overrides));
  }
}
