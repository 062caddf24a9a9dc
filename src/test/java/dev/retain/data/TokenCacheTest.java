package dev.retain.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retain.data.TokenizedFile.CacheStatus;
import dev.retain.model.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenCacheTest {
  @TempDir static Path tokDir;
  static Tokenizer tok;
  @TempDir Path dir;

  @BeforeAll
  static void load() throws IOException {
    tok = TestTokenizer.load(tokDir);
  }

  @AfterAll
  static void close() {
    tok.close();
  }

  private Path data() throws IOException {
    Path f = dir.resolve("train.jsonl");
    Files.writeString(f, "{\"text\": \"hello there\"}\n"
        + "not json\n"
        + "{\"prompt\": \"q\", \"completion\": \"a long answer\"}\n"
        + "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"yo\"}]}\n");
    return f;
  }

  private ExampleLoader loader(int seqLen) {
    return new ExampleLoader(new Encoder(tok, 1, 2, seqLen), dir.resolve("cache"), true);
  }

  private List<Path> cacheFiles() throws IOException {
    try (Stream<Path> s = Files.list(dir.resolve("cache"))) {
      return s.sorted().collect(Collectors.toList());
    }
  }

  @Test
  void secondLoadHitsTheCache() throws IOException {
    Path f = data();
    TokenizedFile first = loader(8).load(f);
    assertEquals(CacheStatus.MISS, first.cache());
    TokenizedFile second = loader(8).load(f);
    assertEquals(CacheStatus.HIT, second.cache());
    assertEquals(first.examples(), second.examples());
    assertEquals(first.withCache(CacheStatus.HIT), second);
    assertEquals(1, second.skipped());
    assertEquals(List.of(2), second.skippedLines());
    assertEquals(3, second.truncated()); // all three are longer than 9 tokens
    assertEquals(1, second.droppedNoTargets()); // the chat's prompt part alone fills 9 tokens
    List<Path> files = cacheFiles();
    assertEquals(1, files.size());
    assertTrue(files.get(0).getFileName().toString().startsWith("train.jsonl-"), files.toString());
  }

  @Test
  void changedContentOrOptionsMiss() throws IOException {
    Path f = data();
    TokenizedFile a = loader(8).load(f);
    Files.writeString(f, "{\"text\": \"changed\"}\n", java.nio.file.StandardOpenOption.APPEND);
    TokenizedFile b = loader(8).load(f);
    assertEquals(CacheStatus.MISS, b.cache());
    assertEquals(a.examples().size() + 1, b.examples().size());
    TokenizedFile c = loader(32).load(f);
    assertEquals(CacheStatus.MISS, c.cache(), "another length cap is another key");
    assertNotEquals(b.examples(), c.examples());
    assertEquals(CacheStatus.HIT, loader(8).load(f).cache());
  }

  @Test
  void corruptCacheIsRebuilt() throws IOException {
    Path f = data();
    TokenizedFile good = loader(8).load(f);
    Path cache = cacheFiles().get(0);
    byte[] bytes = Files.readAllBytes(cache);

    // flip one byte in the token data
    byte[] flipped = bytes.clone();
    flipped[bytes.length - 20] ^= 0x40;
    Files.write(cache, flipped);
    TokenizedFile r1 = loader(8).load(f);
    assertEquals(CacheStatus.REBUILT, r1.cache());
    assertEquals(good.examples(), r1.examples());
    assertEquals(CacheStatus.HIT, loader(8).load(f).cache(), "the rebuilt cache is good again");

    // truncated
    Files.write(cache, Arrays.copyOf(bytes, bytes.length / 2));
    assertEquals(CacheStatus.REBUILT, loader(8).load(f).cache());

    // garbage and empty
    Files.writeString(cache, "garbage");
    assertEquals(CacheStatus.REBUILT, loader(8).load(f).cache());
    Files.write(cache, new byte[0]);
    TokenizedFile r4 = loader(8).load(f);
    assertEquals(CacheStatus.REBUILT, r4.cache());
    assertEquals(good.examples(), r4.examples());
    assertEquals(1, cacheFiles().size(), "no temporary files left behind");
  }

  @Test
  void noCacheFolderMeansDisabled() throws IOException {
    TokenizedFile t = new ExampleLoader(new Encoder(tok, 1, 2, 8), null, true).load(data());
    assertEquals(CacheStatus.DISABLED, t.cache());
  }

  @Test
  void sourceLoadsBothSplits() throws IOException {
    Path train = data();
    Path valid = dir.resolve("valid.jsonl");
    Files.writeString(valid, "{\"text\": \"hi\"}\n");
    LoadedSource s = new Source("general", train, valid).load(loader(8));
    assertEquals(2, s.trainExamples().size());
    assertEquals(List.of(new Example(new int[] {1, 107, 108, 2}, new boolean[] {false, true, true, true})),
        s.validationExamples());
    LoadedSource noValid = Source.of("general", train).load(loader(8));
    assertEquals(List.of(), noValid.validationExamples());
  }
}
