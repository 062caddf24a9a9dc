package dev.retain.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.retain.model.CausalLM;
import dev.retain.model.ModelLoader;
import dev.retain.model.safetensors.DType;
import dev.retain.model.safetensors.SafetensorsFile;
import dev.retain.model.safetensors.SafetensorsWriter;
import dev.retain.model.safetensors.TensorInfo;
import dev.retain.tensor.Host;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Runs the model on given token ids and writes logits and per-token losses, to compare with other tools. */
@Command(name = "logits", mixinStandardHelpOptions = true,
    description = {
      "Run the model on the I64 tensor 'input_ids' [batch, seq] of a safetensors file and write F32",
      "'logits' [batch, seq, vocab] and 'loss_per_token' [batch, seq-1] (next-token cross-entropy).",
      "Use it to compare retain with transformers or another implementation."
    })
final class LogitsCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, description = "Hugging Face model folder (config.json, *.safetensors)")
  Path model;

  @Option(names = "--adapter", description = "adapter folder to apply (PEFT LoRA or bottleneck)")
  Path adapter;

  @Option(names = "--input-ids", required = true, description = "safetensors file holding I64 'input_ids' [batch, seq]")
  Path inputIds;

  @Option(names = "--out", required = true, description = "safetensors file to write")
  Path out;

  @Override
  public Integer call() throws Exception {
    long[] ids;
    long[] shape;
    try (SafetensorsFile in = SafetensorsFile.open(inputIds)) {
      if (!in.contains("input_ids")) {
        throw new Errors.UserException(inputIds + ": no tensor named 'input_ids' (found " + in.names() + ")");
      }
      TensorInfo info = in.info("input_ids");
      if (info.rank() != 2 || !(info.dtype() == DType.I64 || info.dtype() == DType.I32)) {
        throw new Errors.UserException(inputIds + ": 'input_ids' must be I64 [batch, seq], got " + info.dtype()
            + " " + java.util.Arrays.toString(info.shape()));
      }
      ids = in.readLongs("input_ids");
      shape = info.shape();
    }
    try (CausalLM lm = ModelLoader.load(model)) {
      Adapters.apply(lm, adapter);
      for (long id : ids) {
        if (id < 0 || id >= lm.config.vocabSize) {
          throw new Errors.UserException(inputIds + ": token id " + id + " is outside the model's vocabulary [0, "
              + lm.config.vocabSize + ")");
        }
      }
      float[] logits;
      float[] loss;
      try (NDManager m = lm.manager().newSubManager(); NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        NDArray input = Host.of(m, ids, new Shape(shape));
        NDArray l = lm.logits(input);
        logits = l.toFloatArray();
        loss = shape[1] > 1 ? CausalLM.nextTokenLoss(l, input).toFloatArray() : new float[0];
      }
      SafetensorsWriter w = new SafetensorsWriter();
      w.addFloats("logits", DType.F32, new long[] {shape[0], shape[1], lm.config.vocabSize}, logits);
      w.addFloats("loss_per_token", DType.F32, new long[] {shape[0], Math.max(0, shape[1] - 1)}, loss);
      w.metadata(Map.of("format", "pt", "producer", "retain logits"));
      w.write(out);
      System.out.printf("wrote %s: logits [%d, %d, %d], loss_per_token mean %.6f%n", out, shape[0], shape[1],
          lm.config.vocabSize, mean(loss));
    }
    return 0;
  }

  private static double mean(float[] a) {
    double s = 0;
    for (float v : a) {
      s += v;
    }
    return a.length == 0 ? Double.NaN : s / a.length;
  }
}
