package dev.retain.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** Host.of: the values land in the tensor, and no Java direct buffer is left for the collector. */
class HostTest {

  @Test
  void floatsAndLongsRoundTripWithTheirShape() {
    try (NDManager m = Backend.newManager()) {
      float[] f = {0f, -1.5f, Float.NEGATIVE_INFINITY, 3e-8f, 7f, 1e30f};
      NDArray a = Host.of(m, f, new Shape(2, 1, 3));
      assertEquals(new Shape(2, 1, 3), a.getShape());
      assertEquals(DataType.FLOAT32, a.getDataType());
      assertArrayEquals(f, a.toFloatArray());

      long[] l = {3, Long.MAX_VALUE, -7, 0};
      NDArray b = Host.of(m, l, new Shape(2, 2));
      assertEquals(DataType.INT64, b.getDataType());
      assertArrayEquals(l, b.toLongArray());
      assertArrayEquals(l, Host.of(m, l).toLongArray());
      // a computation sees the same values as one on DJL's own copy
      assertArrayEquals(m.create(f, new Shape(2, 3)).exp().toFloatArray(), Host.of(m, f, new Shape(2, 3)).exp().toFloatArray());
    }
  }

  @Test
  void aWrongSizeIsAClearError() {
    try (NDManager m = Backend.newManager()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Host.of(m, new float[5], new Shape(2, 3)));
      assertTrue(e.getMessage().contains("5 values") && e.getMessage().contains("(2, 3)"), e.getMessage());
    }
  }

  /**
   * DJL's create copies into a Java direct buffer that only the garbage collector frees (1 MiB per
   * call here); Host.of writes into libtorch's memory, so the JVM's direct pool does not move.
   */
  @Test
  void leavesNoDirectBufferBehind() {
    BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
        .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
    float[] mib = new float[1 << 18];
    try (NDManager m = Backend.newManager()) {
      Host.of(m, mib, new Shape(mib.length)).close(); // the one-time probe
      long before = direct.getMemoryUsed();
      for (int i = 0; i < 20; i++) {
        Host.of(m, mib, new Shape(mib.length)).close();
      }
      long hostGrowth = direct.getMemoryUsed() - before;
      assertTrue(hostGrowth < (1 << 20), "Host.of left " + hostGrowth + " bytes of direct buffers");
      // The control: the measure sees what Host.of avoids, unless a collection ran in between.
      long collections = collections();
      before = direct.getMemoryUsed();
      for (int i = 0; i < 20; i++) {
        m.create(mib, new Shape(mib.length)).close();
      }
      long djlGrowth = direct.getMemoryUsed() - before;
      if (collections() == collections) {
        assertTrue(djlGrowth >= 20L << 20, "DJL's create left only " + djlGrowth + " bytes");
      }
    }
  }

  private static long collections() {
    return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(GarbageCollectorMXBean::getCollectionCount).sum();
  }
}
