/**
 * Pure-Java reading and writing of the safetensors format and of Hugging Face model folders.
 *
 * <p>Why this package exists: checkpoints are the boundary between this project and the outside
 * world (downloads, other tools, interrupted runs), so reading them must validate everything and
 * fail with actionable messages ({@link dev.retain.model.safetensors.SafetensorsException}), and
 * writing them must be atomic and byte-for-byte compatible with the reference implementation.
 * Nothing here depends on DJL or any tensor library; values come out as {@code float[]} /
 * {@code long[]} or raw little-endian buffers.
 *
 * <ul>
 *   <li>{@link dev.retain.model.safetensors.SafetensorsFile}: one validated, memory-mapped file.</li>
 *   <li>{@link dev.retain.model.safetensors.SafetensorsWriter} and
 *       {@link dev.retain.model.safetensors.TensorData}: atomic, streaming writes.</li>
 *   <li>{@link dev.retain.model.safetensors.SafetensorsCheckpoint}: a model folder, single file
 *       or sharded with {@code model.safetensors.index.json}.</li>
 *   <li>{@link dev.retain.model.safetensors.HalfFloats}: exact F16/BF16 conversions.</li>
 * </ul>
 */
package dev.retain.model.safetensors;
