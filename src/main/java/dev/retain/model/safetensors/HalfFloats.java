package dev.retain.model.safetensors;

/**
 * Bit-level conversions between {@code float} and the 16-bit formats IEEE binary16 (F16) and
 * bfloat16 (BF16).
 *
 * <p>Why hand-written: Java 17 has no binary16 support, and library BF16 paths have been seen to
 * mis-round or flush values; these are exact, table-free and round to nearest, ties to even,
 * so a checkpoint converted here matches PyTorch bit for bit.
 */
public final class HalfFloats {
    private HalfFloats() {
    }

    /** BF16 bits to float: exact (the BF16 bits are the top half of a float). */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /**
     * Float to BF16 bits, round to nearest, ties to even. Infinities stay infinite, finite values
     * that round past the largest BF16 become infinity, NaN stays a (quiet) NaN with its sign.
     */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            // NaN: keep sign and top payload bits, force quiet so it cannot round to infinity.
            return (short) ((bits >>> 16) | 0x0040);
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** F16 (IEEE binary16) bits to float: exact, including subnormals, infinities and NaN. */
    public static float f16ToFloat(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            // zero or subnormal: mant * 2^-24, exact in float
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /**
     * Float to F16 bits, round to nearest, ties to even. Values of magnitude at least 65520 become
     * infinity; tiny values become (signed) subnormals or zero; NaN stays a quiet NaN with its sign.
     */
    public static short floatToF16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7FFFFFFF;
        if (abs >= 0x7F800000) {
            if (abs == 0x7F800000) {
                return (short) (sign | 0x7C00);
            }
            return (short) (sign | 0x7E00 | ((abs >>> 13) & 0x3FF));
        }
        if (abs >= 0x477FF000) {
            // >= 65520: halfway between 65504 (max F16) and 65536 or more rounds to infinity
            return (short) (sign | 0x7C00);
        }
        int exp = abs >>> 23;
        if (exp >= 113) {
            // normal F16 range (float exponent >= -14)
            int h = ((exp - 112) << 10) | ((abs >>> 13) & 0x3FF);
            int rem = abs & 0x1FFF;
            if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) {
                h++; // may carry into the exponent, which is the correct result
            }
            return (short) (sign | h);
        }
        if (exp < 102) {
            // below 2^-25 (half the smallest subnormal): rounds to zero
            return (short) sign;
        }
        // F16 subnormal: value / 2^-24 = m * 2^(exp - 126)
        int m = (abs & 0x7FFFFF) | 0x800000;
        int shift = 126 - exp; // 14..24
        int h = m >>> shift;
        int rem = m & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        if (rem > half || (rem == half && (h & 1) != 0)) {
            h++; // may become 0x400, the smallest normal, which is correct
        }
        return (short) (sign | h);
    }
}
