package dev.retain.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * F16/BF16 conversions checked against hand-computed bit patterns and against slow, independent
 * oracles written with double arithmetic and exhaustive search.
 */
class HalfFloatsTest {

    // ---------------------------------------------------------------- oracles

    /** Value of F16 bits computed from the IEEE definition in double arithmetic. */
    private static double f16Value(int h) {
        int s = (h >>> 15) & 1;
        int e = (h >>> 10) & 0x1F;
        int m = h & 0x3FF;
        double mag;
        if (e == 0x1F) {
            mag = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (e == 0) {
            mag = m * Math.pow(2, -24);
        } else {
            mag = (1 + m / 1024.0) * Math.pow(2, e - 15);
        }
        return s == 1 ? -mag : mag;
    }

    /** Nearest F16 to a finite float by binary search over all finite F16 magnitudes, ties to even. */
    private static int f16Oracle(float f) {
        double a = Math.abs((double) f);
        int sign = (Float.floatToRawIntBits(f) >>> 16) & 0x8000;
        int lo = 0;
        int hi = 0x7BFF; // largest finite
        if (a >= f16Value(hi)) {
            lo = hi;
        } else {
            while (hi - lo > 1) { // invariant: value(lo) <= a < value(hi)
                int mid = (lo + hi) >>> 1;
                if (f16Value(mid) <= a) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
        }
        int up = lo + 1;
        double vUp = up == 0x7C00 ? 65536.0 : f16Value(up); // overflow rounds like the next binade step
        double dLo = a - f16Value(lo);
        double dUp = vUp - a;
        int pick;
        if (dLo < dUp) {
            pick = lo;
        } else if (dUp < dLo) {
            pick = up;
        } else {
            pick = (lo & 1) == 0 ? lo : up;
        }
        return sign | pick;
    }

    /** Nearest BF16 to a finite float, ties to even, from the two truncation candidates. */
    private static int bf16Oracle(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int lo = (bits & 0x7FFFFFFF) >>> 16;
        int up = lo + 1;
        double a = Math.abs((double) f);
        double vLo = Float.intBitsToFloat(lo << 16);
        double vUp = up == 0x7F80 ? Math.scalb(1.0, 128) : Float.intBitsToFloat(up << 16);
        double dLo = a - vLo;
        double dUp = vUp - a;
        int pick = dLo < dUp ? lo : dUp < dLo ? up : ((lo & 1) == 0 ? lo : up);
        return sign | pick;
    }

    private static int f16(float f) {
        return HalfFloats.floatToF16(f) & 0xFFFF;
    }

    private static int bf16(float f) {
        return HalfFloats.floatToBf16(f) & 0xFFFF;
    }

    // ---------------------------------------------------------------- hand-computed patterns

    @Test
    void handComputedBf16() {
        assertEquals(0x3F80, bf16(1.0f));
        assertEquals(0xBF80, bf16(-1.0f));
        assertEquals(0x0000, bf16(0.0f));
        assertEquals(0x8000, bf16(-0.0f));
        assertEquals(0x4049, bf16((float) Math.PI)); // 0x40490FDB: low half below 0x8000 -> down
        assertEquals(0x3F80, bf16(Float.intBitsToFloat(0x3F808000))); // exact tie, 0x3F80 even -> down
        assertEquals(0x3F82, bf16(Float.intBitsToFloat(0x3F818000))); // exact tie, 0x3F81 odd -> up
        assertEquals(0x3F81, bf16(Float.intBitsToFloat(0x3F808001))); // just above the tie -> up
        assertEquals(0x3F80, bf16(Float.intBitsToFloat(0x3F807FFF))); // just below the tie -> down
        assertEquals(0x7F80, bf16(Float.POSITIVE_INFINITY));
        assertEquals(0xFF80, bf16(Float.NEGATIVE_INFINITY));
        assertEquals(0x7F80, bf16(Float.MAX_VALUE)); // rounds past the largest BF16 -> inf
        assertEquals(0x0000, bf16(Float.MIN_VALUE)); // smallest subnormal rounds to zero
        int nan = bf16(Float.NaN);
        assertTrue((nan & 0x7F80) == 0x7F80 && (nan & 0x7F) != 0, Integer.toHexString(nan));
        // a NaN whose payload lives only in the low 16 bits must stay NaN, not become infinity
        int lowNan = bf16(Float.intBitsToFloat(0x7F800001));
        assertTrue((lowNan & 0x7F80) == 0x7F80 && (lowNan & 0x7F) != 0, Integer.toHexString(lowNan));
        assertEquals(1.0f, HalfFloats.bf16ToFloat((short) 0x3F80));
        assertEquals(-2.0f, HalfFloats.bf16ToFloat((short) 0xC000));
    }

    @Test
    void handComputedF16() {
        assertEquals(0x3C00, f16(1.0f));
        assertEquals(0xBC00, f16(-1.0f));
        assertEquals(0x4000, f16(2.0f));
        assertEquals(0x3800, f16(0.5f));
        assertEquals(0x2E66, f16(0.1f));
        assertEquals(0x3555, f16(1f / 3f));
        assertEquals(0x0000, f16(0.0f));
        assertEquals(0x8000, f16(-0.0f));
        assertEquals(0x7BFF, f16(65504f));   // largest finite
        assertEquals(0x7BFF, f16(65519.996f));
        assertEquals(0x7C00, f16(65520f));   // tie with the (odd) max rounds to inf
        assertEquals(0x7C00, f16(1e6f));
        assertEquals(0xFC00, f16(-1e6f));
        assertEquals(0x7C00, f16(Float.POSITIVE_INFINITY));
        assertEquals(0xFC00, f16(Float.NEGATIVE_INFINITY));
        assertEquals(0x0400, f16(0x1p-14f)); // smallest normal
        assertEquals(0x0001, f16(0x1p-24f)); // smallest subnormal
        assertEquals(0x0000, f16(0x1p-25f)); // tie between 0 and the smallest subnormal -> 0 (even)
        assertEquals(0x0001, f16(Math.nextUp(0x1p-25f)));
        assertEquals(0x0002, f16(3 * 0x1p-25f)); // tie between 1 and 2 -> 2 (even)
        assertEquals(0x03FF, f16(1023 * 0x1p-24f)); // largest subnormal
        assertEquals(0x0400, f16(1023.5f * 0x1p-24f)); // tie, rounds up into the normals
        assertEquals(0x3C00, f16(1.00048828125f)); // 1 + 2^-11: tie, 0x3C00 even -> down
        assertEquals(0x3C02, f16(1.00146484375f)); // 1 + 3*2^-11: tie, 0x3C01 odd -> up
        assertEquals(0x3C01, f16(Math.nextUp(1.00048828125f)));
        assertEquals(0x0000, f16(Float.MIN_VALUE));
        int nan = f16(Float.NaN);
        assertTrue((nan & 0x7C00) == 0x7C00 && (nan & 0x3FF) != 0, Integer.toHexString(nan));
        int lowNan = f16(Float.intBitsToFloat(0xFF800001)); // payload below F16 precision
        assertTrue((lowNan & 0xFC00) == 0xFC00 && (lowNan & 0x3FF) != 0, Integer.toHexString(lowNan));
        assertEquals(1.0f, HalfFloats.f16ToFloat((short) 0x3C00));
        assertEquals(0x1p-24f, HalfFloats.f16ToFloat((short) 0x0001));
        assertEquals(-65504f, HalfFloats.f16ToFloat((short) 0xFBFF));
        assertTrue(Float.isNaN(HalfFloats.f16ToFloat((short) 0x7E00)));
        assertEquals(Float.NEGATIVE_INFINITY, HalfFloats.f16ToFloat((short) 0xFC00));
    }

    // ---------------------------------------------------------------- exhaustive / randomized

    @Test
    void f16ToFloatIsExactForAllBitPatterns() {
        for (int h = 0; h < 0x10000; h++) {
            float got = HalfFloats.f16ToFloat((short) h);
            double want = f16Value(h);
            if (Double.isNaN(want)) {
                assertTrue(Float.isNaN(got), Integer.toHexString(h));
                assertEquals(h >>> 15, Float.floatToRawIntBits(got) >>> 31, "NaN sign " + Integer.toHexString(h));
            } else {
                assertEquals(Double.doubleToRawLongBits(want), Double.doubleToRawLongBits(got), Integer.toHexString(h));
                // round trip
                assertEquals(h, f16(got), Integer.toHexString(h));
            }
        }
    }

    @Test
    void floatToF16MatchesOracle() {
        // every midpoint between neighbouring F16 values (exact ties) and its float neighbours
        for (int h = 0; h < 0x7C00; h++) {
            double mid = (f16Value(h) + (h + 1 == 0x7C00 ? 65536.0 : f16Value(h + 1))) / 2;
            float m = (float) mid;
            assertEquals(mid, (double) m, "midpoint must be exact in float");
            for (float f : new float[] {m, Math.nextUp(m), Math.nextDown(m), -m, -Math.nextUp(m)}) {
                assertEquals(f16Oracle(f), f16(f), () -> "f=" + f + " bits=" + Integer.toHexString(Float.floatToRawIntBits(f)));
            }
        }
        Random r = new Random(20240611L);
        for (int i = 0; i < 300_000; i++) {
            float f;
            if (i % 2 == 0) {
                // magnitudes around the F16 range, 2^-30 .. 2^17
                f = (float) Math.scalb(1 + r.nextDouble(), r.nextInt(48) - 30) * (r.nextBoolean() ? 1 : -1);
            } else {
                f = Float.intBitsToFloat(r.nextInt());
                if (Float.isNaN(f) || Float.isInfinite(f)) {
                    continue;
                }
            }
            float ff = f;
            assertEquals(f16Oracle(f), f16(f), () -> "f=" + ff + " bits=" + Integer.toHexString(Float.floatToRawIntBits(ff)));
        }
    }

    @Test
    void floatToBf16MatchesOracle() {
        Random r = new Random(7L);
        for (int i = 0; i < 300_000; i++) {
            int bits = r.nextInt();
            if (i % 3 == 0) {
                bits = (bits & 0xFFFF0000) | 0x8000; // exact ties
            } else if (i % 3 == 1) {
                bits = (bits & 0xFFFF0000) | (0x8000 + (r.nextBoolean() ? 1 : -1));
            }
            float f = Float.intBitsToFloat(bits);
            if (Float.isNaN(f) || Float.isInfinite(f)) {
                continue;
            }
            int b = bits;
            assertEquals(bf16Oracle(f), bf16(f), () -> "bits=" + Integer.toHexString(b));
        }
        for (int h = 0; h < 0x10000; h++) {
            float v = HalfFloats.bf16ToFloat((short) h);
            assertEquals(h << 16, Float.floatToRawIntBits(v));
            if (!Float.isNaN(v)) {
                assertEquals(h, bf16(v), Integer.toHexString(h));
            }
        }
    }
}
