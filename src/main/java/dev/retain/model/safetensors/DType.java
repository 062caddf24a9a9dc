package dev.retain.model.safetensors;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Element types a safetensors file may declare, spelled as in the file header.
 *
 * <p>Why our own enum: the reader must understand exactly the set of types it can convert, and
 * must refuse anything else with a clear message instead of guessing an element size.
 */
public enum DType {
    F64(8),
    F32(4),
    F16(2),
    BF16(2),
    I64(8),
    I32(4),
    I16(2),
    I8(1),
    U8(1),
    BOOL(1);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** True for F64, F32, F16 and BF16. */
    public boolean isFloatingPoint() {
        return this == F64 || this == F32 || this == F16 || this == BF16;
    }

    /** True for the integer types and BOOL (everything {@code readLongs} accepts). */
    public boolean isIntegral() {
        return !isFloatingPoint();
    }

    /**
     * The dtype for a header spelling such as {@code "BF16"} (exact, case-sensitive, as the format
     * defines it), or {@code null} when the spelling is unknown or null.
     */
    public static DType parse(String name) {
        if (name == null) {
            return null;
        }
        for (DType d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }

    /** The supported spellings, for error messages: "F64, F32, ...". */
    static String supportedList() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
    }
}
