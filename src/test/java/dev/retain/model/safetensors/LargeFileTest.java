package dev.retain.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files and offsets beyond 2 GiB, using a sparse file so the test costs almost no disk or time. */
class LargeFileTest {

    @TempDir
    Path tmp;

    private static final long BIG = (1L << 31) + 4096; // bytes of the zero-filled U8 tensor

    @Test
    void tensorAfterTwoGiBIsReadable() throws IOException {
        long usable = Files.getFileStore(tmp).getUsableSpace();
        Assumptions.assumeTrue(usable >= 3L << 30, "needs 3 GiB free in " + tmp + ", have " + usable);
        Path file = tmp.resolve("sparse.safetensors");
        String json = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"big\":{\"dtype\":\"U8\",\"shape\":[" + BIG + "],\"data_offsets\":[0," + BIG + "]},"
                + "\"tail\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[" + BIG + "," + (BIG + 16) + "]}}";
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        long dataStart = 8 + h.length;
        long total = dataStart + BIG + 16;
        try {
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                ByteBuffer head = ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN);
                head.putLong(h.length).put(h);
                raf.write(head.array());
                raf.setLength(total); // sparse: the big tensor is a hole of zeros
                raf.seek(dataStart + (1L << 31) + 100);
                raf.write(7); // one non-zero byte past the 2 GiB mark inside "big"
                ByteBuffer tail = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
                tail.putFloat(1.5f).putFloat(-2.25f).putFloat(1e30f).putFloat(Float.MIN_VALUE);
                raf.seek(dataStart + BIG);
                raf.write(tail.array());
            }
            assertEquals(total, Files.size(file));
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                assertEquals(BIG, f.info("big").byteLength());
                assertEquals(BIG + 16, f.dataLength());
                assertArrayEquals(new float[] {1.5f, -2.25f, 1e30f, Float.MIN_VALUE}, f.readFloats("tail"));
                assertEquals(-2.25f, f.map("tail").getFloat(4));
                float[] slice = f.readFloats("big", (1L << 31) + 96, 8);
                assertArrayEquals(new float[] {0, 0, 0, 0, 7, 0, 0, 0}, slice);

                SafetensorsException e = assertThrows(SafetensorsException.class, () -> f.readLongs("big"));
                assertTrue(e.getMessage().contains("sparse.safetensors") && e.getMessage().contains("'big'")
                        && e.getMessage().contains("more than a Java array can hold"), e.getMessage());
                e = assertThrows(SafetensorsException.class, () -> f.map("big"));
                assertTrue(e.getMessage().contains("'big'") && e.getMessage().contains("too large for one ByteBuffer"), e.getMessage());
            }
            try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(tmp)) {
                assertEquals(1.5f, c.readFloats("tail")[0]);
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
