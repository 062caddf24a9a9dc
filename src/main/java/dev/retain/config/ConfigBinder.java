package dev.retain.config;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * Strict YAML-to-object binding for run configurations. A run costs GPU hours, so a typo must stop
 * it before any work: every key of the file must match a public field of the config class
 * (snake_case of the field name, or {@link Key}), every value must have the field's type and
 * satisfy its {@link Range}, {@link Required} and {@link MustExist}, and {@link Validatable} rules
 * must pass. All problems of a file are reported together, each as {@code file:line: key.path
 * ...} with the fix (nearest known key, allowed values, range).
 *
 * <p>Config classes are plain classes with mutable public fields initialised to their defaults;
 * a key absent from the YAML keeps its default. Nested sections are bound into the default
 * instance (so unlisted keys keep their defaults); lists and maps are replaced as a whole. Paths
 * written in the YAML are resolved against the YAML file's folder, paths given on the command line
 * against the working directory, and default paths against the working directory: after {@link
 * #load} every path is absolute.
 */
public final class ConfigBinder {
  private ConfigBinder() {}

  /** Loads {@code yamlFile} into a new {@code type}, or throws a {@link ConfigException} listing every problem. */
  public static <T> T load(Path yamlFile, Class<T> type) {
    return load(yamlFile, type, List.of());
  }

  /**
   * Loads {@code yamlFile}, then applies command-line {@code overrides} ({@code key.path=value}, see
   * {@link #applyOverrides}) before validating the result, so that an override can supply a
   * required key or fix a value and is held to the same rules.
   */
  public static <T> T load(Path yamlFile, Class<T> type, List<String> overrides) {
    Binding.verifyTree(type);
    String label = yamlFile.toString();
    String text;
    try {
      text = Files.readString(yamlFile);
    } catch (NoSuchFileException e) {
      throw fileProblem(label, "no such file (looked for " + yamlFile.toAbsolutePath().normalize() + ")");
    } catch (MalformedInputException e) {
      throw fileProblem(label, "not valid UTF-8 text; save the file as UTF-8");
    } catch (IOException e) {
      throw fileProblem(label, "cannot read the file: " + e);
    }
    if (text.startsWith("\uFEFF")) {
      text = text.substring(1);
    }
    Path base = yamlFile.toAbsolutePath().normalize().getParent();
    Binding b = new Binding(label, base, true);
    T root = type.cast(Schema.of(type).newInstance());
    b.bindDocument(root, b.compose(text));
    for (int i = 0; i < overrides.size(); i++) {
      b.applyOverride(root, overrides.get(i), i);
    }
    b.check(root, true);
    if (!b.hasProblems()) {
      b.runHooks(root);
    }
    b.throwIfProblems();
    return root;
  }

  /**
   * Applies {@code key.path=value} overrides to an existing config, then validates the whole tree
   * ({@link #validate}). Key paths use the YAML names: {@code training.lr=1e-4}, {@code
   * stages[1].lr=1e-5}, {@code data.sources.domain.weight=2} (a map entry that does not exist is
   * created with defaults). Scalar values are taken literally; lists may be {@code a,b,c} or YAML
   * flow {@code [a, b]}; sections and maps are YAML flow {@code {key: value}}; an empty value, {@code
   * null} or {@code ~} clears an optional value. Relative paths resolve against the working
   * directory. Problems name {@code command-line override 'key=value'} as their source.
   *
   * @return {@code config}, modified in place
   */
  public static <T> T applyOverrides(T config, List<String> overrides) {
    Binding.verifyTree(config.getClass());
    Binding b = new Binding(null, Path.of("").toAbsolutePath(), false);
    for (int i = 0; i < overrides.size(); i++) {
      b.applyOverride(config, overrides.get(i), i);
    }
    b.check(config, false);
    if (!b.hasProblems()) {
      b.runHooks(config);
    }
    b.throwIfProblems();
    return config;
  }

  /** One override given as path and value: {@code applyOverride(cfg, "training.lr", "1e-4")}. */
  public static <T> T applyOverride(T config, String dottedPath, String value) {
    return applyOverrides(config, List.of(dottedPath + "=" + value));
  }

  /**
   * Checks a config built or changed in code with the same rules as {@link #load} ({@link Required}
   * means non-null here); throws a {@link ConfigException} listing every problem.
   */
  public static void validate(Object config) {
    applyOverrides(config, List.of());
  }

  /**
   * The effective configuration as a YAML document: every key with its value (defaults included),
   * in field order, enums in lower case, paths as strings. Written next to a run's outputs, it
   * reloads with {@link #load} to the same values.
   */
  public static String toYaml(Object config) {
    Binding.verifyTree(config.getClass());
    return YamlWriter.block(YamlWriter.plain(new VType.Obj(config.getClass()), config));
  }

  private static ConfigException fileProblem(String label, String message) {
    return new ConfigException(List.of(new ConfigProblem(label, 0, "", message)));
  }
}
