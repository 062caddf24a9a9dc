package dev.retain.model.safetensors;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Shared test helpers: reference paths and hand-built raw files. */
final class Fixtures {
    private Fixtures() {
    }

    static final Path REF_DIR = Path.of("../shared/reference/hf-llama-tiny");
    static final Path REF_MODEL_DIR = REF_DIR.resolve("model");
    static final Path REF_MODEL = REF_MODEL_DIR.resolve("model.safetensors");
    static final Path REF_INPUTS = REF_DIR.resolve("inputs.safetensors");

    /** 8-byte LE length + header bytes (unpadded) + data. */
    static byte[] raw(String headerJson, byte[] data) {
        byte[] h = headerJson.getBytes(StandardCharsets.UTF_8);
        return raw(h.length, h, data);
    }

    /** Explicit header length field, header bytes and data. */
    static byte[] raw(long lengthField, byte[] header, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(lengthField).put(header).put(data);
        return b.array();
    }

    /** Header length N from the first 8 bytes, by hand. */
    static long headerLength(byte[] file) {
        long n = 0;
        for (int i = 7; i >= 0; i--) {
            n = (n << 8) | (file[i] & 0xFF);
        }
        return n;
    }

    static String headerText(byte[] file) {
        return new String(file, 8, (int) headerLength(file), StandardCharsets.UTF_8);
    }

    /** data_offsets of {@code name}, found in the header text with a regex (independent of the reader). */
    static long[] offsetsByHand(String header, String name) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(name)
                + "\":\\{[^}]*\"data_offsets\":\\[(\\d+),(\\d+)\\]").matcher(header);
        if (!m.find()) {
            throw new AssertionError("no entry for " + name + " in header");
        }
        return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))};
    }

    /** Little-endian float at absolute byte position {@code pos}, assembled by hand. */
    static float floatAt(byte[] file, long pos) {
        int p = (int) pos;
        int bits = (file[p] & 0xFF) | (file[p + 1] & 0xFF) << 8 | (file[p + 2] & 0xFF) << 16 | (file[p + 3] & 0xFF) << 24;
        return Float.intBitsToFloat(bits);
    }

    /** Little-endian long at absolute byte position {@code pos}, assembled by hand. */
    static long longAt(byte[] file, long pos) {
        int p = (int) pos;
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (file[p + i] & 0xFF);
        }
        return v;
    }
}
