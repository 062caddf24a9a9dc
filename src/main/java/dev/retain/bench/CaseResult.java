package dev.retain.bench;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What one case measured in one process, retain's or the peer's (bench/peer.py writes the same keys).
 * Times are seconds per unit of work (a training step, an evaluation batch, one generation call);
 * memory is bytes of resident memory (Linux VmHWM / ru_maxrss).
 *
 * @param impl "retain" or "pytorch"
 * @param units seconds of each timed unit after warm-up
 * @param tokensPerUnit tokens one unit processes (batch x seq; new tokens for generation)
 * @param peakRss peak resident memory of the whole process
 * @param rssBaseline resident memory after the engine started and ran a small op, before the model
 * @param rssBuilt resident memory after the model (and adapters, terms) were built
 * @param matmulGflops float32 1024^3 matmul throughput (fastest of 15) measured in the same process just before the case
 * @param optimizerStateBytes bytes of optimizer moments after the run
 * @param gradBytes bytes of gradients of the trainable tensors
 * @param minorFaultsPerUnit minor page faults per timed unit (fresh memory touched: allocation cost)
 * @param phases median seconds of each phase of a training step (forward, backward, adamw, ...); may be null
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CaseResult(
    @JsonProperty("impl") String impl,
    @JsonProperty("case") String kase,
    @JsonProperty("model") String model,
    @JsonProperty("batch") int batch,
    @JsonProperty("seq") int seq,
    @JsonProperty("threads") int threads,
    @JsonProperty("params_total") long paramsTotal,
    @JsonProperty("params_trainable") long paramsTrainable,
    @JsonProperty("units_s") double[] units,
    @JsonProperty("tokens_per_unit") long tokensPerUnit,
    @JsonProperty("peak_rss") long peakRss,
    @JsonProperty("rss_baseline") long rssBaseline,
    @JsonProperty("rss_built") long rssBuilt,
    @JsonProperty("matmul_gflops") double matmulGflops,
    @JsonProperty("optimizer_state_bytes") long optimizerStateBytes,
    @JsonProperty("grad_bytes") long gradBytes,
    @JsonProperty("loss_first") double lossFirst,
    @JsonProperty("loss_last") double lossLast,
    @JsonProperty("version") String version,
    @JsonProperty("phases_s") Map<String, Double> phases,
    @JsonProperty("minor_faults_per_unit") double minorFaultsPerUnit) {

  /** Median seconds per unit. */
  public double medianSeconds() {
    return median(units);
  }

  /** Tokens per second at the median unit time. */
  public double tokensPerSecond() {
    double m = medianSeconds();
    return m > 0 ? tokensPerUnit / m : Double.NaN;
  }

  /** The median of values (NaN for none). */
  public static double median(double[] values) {
    if (values == null || values.length == 0) {
      return Double.NaN;
    }
    double[] v = values.clone();
    Arrays.sort(v);
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  public static double median(List<Double> values) {
    return median(values.stream().mapToDouble(Double::doubleValue).toArray());
  }
}
