package dev.retain.data;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * On-disk cache of a tokenised file. Plain data, no Java serialization. Layout (big-endian):
 *
 * <pre>
 * "RETAINTK"                     8-byte magic
 * int32 format                   {@value #FORMAT}
 * string key                     int32 byte length + UTF-8 (the full cache key, checked on read)
 * int32 records, int32 skipped
 * int32 k, k x int32             first skipped line numbers
 * int32 k, k x string            first problems
 * int32 truncated, int32 droppedNoTargets
 * int32 count                    examples, then per example:
 *   int32 n, n x int32 ids, ceil(n/8) bytes of target bits (bit i%8 of byte i/8, LSB first)
 * int64 crc32                    of every byte before it
 * </pre>
 *
 * Files are written to a temporary name and atomically renamed, so readers never see half a file;
 * any file that does not read back exactly is reported as {@link Corrupt} and rebuilt by the caller.
 */
final class TokenCache {
  static final byte[] MAGIC = "RETAINTK".getBytes(StandardCharsets.US_ASCII);
  static final int FORMAT = 1;
  private static final int MAX_STRING = 1 << 20;

  /** The cache file is unreadable; it should be rebuilt. */
  static final class Corrupt extends Exception {
    private static final long serialVersionUID = 1L;

    Corrupt(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private TokenCache() {}

  /** Reads a cache file written for {@code key}. */
  static TokenizedFile read(Path cacheFile, String key, Path source) throws Corrupt {
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(cacheFile), 1 << 16)) {
      CheckedInputStream checked = new CheckedInputStream(raw, new CRC32());
      DataInputStream in = new DataInputStream(checked);
      byte[] magic = new byte[MAGIC.length];
      in.readFully(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new Corrupt("not a retain token cache (bad magic)", null);
      }
      int format = in.readInt();
      if (format != FORMAT) {
        throw new Corrupt("cache format " + format + ", expected " + FORMAT, null);
      }
      String storedKey = readString(in);
      if (!storedKey.equals(key)) {
        throw new Corrupt("the cache key inside the file does not match", null);
      }
      int records = nonNegative(in.readInt(), "records");
      int skipped = nonNegative(in.readInt(), "skipped");
      int k = bounded(in.readInt(), JsonlReader.KEEP_PROBLEMS, "skipped lines");
      List<Integer> skippedLines = new ArrayList<>();
      for (int i = 0; i < k; i++) {
        skippedLines.add(in.readInt());
      }
      k = bounded(in.readInt(), JsonlReader.KEEP_PROBLEMS, "problems");
      List<String> problems = new ArrayList<>();
      for (int i = 0; i < k; i++) {
        problems.add(readString(in));
      }
      int truncated = nonNegative(in.readInt(), "truncated");
      int dropped = nonNegative(in.readInt(), "dropped");
      int count = nonNegative(in.readInt(), "count");
      List<Example> examples = new ArrayList<>(Math.min(count, 1 << 20));
      for (int e = 0; e < count; e++) {
        int n = bounded(in.readInt(), 1 << 26, "example length");
        byte[] buf = new byte[n * 4];
        in.readFully(buf);
        int[] ids = new int[n];
        ByteBuffer.wrap(buf).order(ByteOrder.BIG_ENDIAN).asIntBuffer().get(ids);
        byte[] bits = new byte[(n + 7) / 8];
        in.readFully(bits);
        boolean[] target = new boolean[n];
        for (int i = 0; i < n; i++) {
          target[i] = (bits[i >>> 3] & (1 << (i & 7))) != 0;
        }
        examples.add(new Example(ids, target, true));
      }
      long expected = checked.getChecksum().getValue();
      long stored = new DataInputStream(raw).readLong();
      if (stored != expected) {
        throw new Corrupt("checksum mismatch", null);
      }
      if (raw.read() != -1) {
        throw new Corrupt("trailing bytes after the checksum", null);
      }
      return new TokenizedFile(source, examples, records, skipped, skippedLines, problems, truncated, dropped,
          TokenizedFile.CacheStatus.HIT);
    } catch (EOFException e) {
      throw new Corrupt("truncated", e);
    } catch (IOException | RuntimeException e) {
      throw new Corrupt(e.toString(), e);
    }
  }

  /** Writes {@code data} atomically to {@code cacheFile}. */
  static void write(Path cacheFile, String key, TokenizedFile data) throws IOException {
    Path dir = cacheFile.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = dir.resolve("." + cacheFile.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
    boolean done = false;
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        OutputStream raw = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
        CheckedOutputStream checked = new CheckedOutputStream(raw, new CRC32());
        DataOutputStream out = new DataOutputStream(checked);
        out.write(MAGIC);
        out.writeInt(FORMAT);
        writeString(out, key);
        out.writeInt(data.records());
        out.writeInt(data.skipped());
        out.writeInt(data.skippedLines().size());
        for (int line : data.skippedLines()) {
          out.writeInt(line);
        }
        out.writeInt(data.problems().size());
        for (String p : data.problems()) {
          writeString(out, p);
        }
        out.writeInt(data.truncated());
        out.writeInt(data.droppedNoTargets());
        out.writeInt(data.examples().size());
        for (Example e : data.examples()) {
          int[] ids = e.idsUnsafe();
          boolean[] target = e.targetUnsafe();
          int n = ids.length;
          out.writeInt(n);
          ByteBuffer buf = ByteBuffer.allocate(n * 4).order(ByteOrder.BIG_ENDIAN);
          buf.asIntBuffer().put(ids);
          out.write(buf.array());
          byte[] bits = new byte[(n + 7) / 8];
          for (int i = 0; i < n; i++) {
            if (target[i]) {
              bits[i >>> 3] |= (byte) (1 << (i & 7));
            }
          }
          out.write(bits);
        }
        out.flush();
        long crc = checked.getChecksum().getValue();
        DataOutputStream tail = new DataOutputStream(raw);
        tail.writeLong(crc);
        tail.flush();
        ch.force(true);
      }
      Files.move(tmp, cacheFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      done = true;
    } finally {
      if (!done) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // best effort
        }
      }
    }
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    if (b.length > MAX_STRING) {
      b = Arrays.copyOf(b, MAX_STRING);
    }
    out.writeInt(b.length);
    out.write(b);
  }

  private static String readString(DataInputStream in) throws IOException, Corrupt {
    int n = bounded(in.readInt(), MAX_STRING, "string length");
    byte[] b = new byte[n];
    in.readFully(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  private static int nonNegative(int v, String what) throws Corrupt {
    if (v < 0) {
      throw new Corrupt("negative " + what, null);
    }
    return v;
  }

  private static int bounded(int v, int max, String what) throws Corrupt {
    if (v < 0 || v > max) {
      throw new Corrupt(what + " " + v + " out of range", null);
    }
    return v;
  }
}
