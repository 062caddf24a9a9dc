/**
 * Training data: JSONL sources, tokenisation with loss masks, the token cache, the replay mixture and
 * packing into batches. Data flows in this order:
 *
 * <pre>
 * Source (name, train.jsonl, valid.jsonl?)
 *   -> JsonlReader      RawExample per line (text | prompt/completion | messages)
 *   -> Encoder          Example = ids + target mask; cut to seqLen + 1 tokens
 *   -> ExampleLoader    ... cached on disk by content + tokenizer + options  -> TokenizedFile
 *   -> Mixture          domain + general replayed at r(e) of a ReplaySchedule -> EpochPlan(e)
 *   -> Packer           rows of seqLen positions, one source per row          -> Batches -> Batch
 * </pre>
 *
 * <p>Decisions, in one place:
 *
 * <ul>
 *   <li>Chat template (version 1): {@code bos}, then per message {@code enc(role + ": ")},
 *       {@code enc(content)}, then {@code eos} after an assistant message or {@code enc("\n")}
 *       after any other; assistant contents and their eos are trained on. Pieces are tokenised
 *       separately. See {@link dev.retain.data.Encoder}.
 *   <li>Truncation: an example keeps its first seqLen + 1 tokens (one row's worth: a document of n
 *       tokens takes n - 1 input positions). Cut examples are counted; those left with no target are
 *       dropped and counted.
 *   <li>Padding: input id = the pad id given to the {@link dev.retain.data.Packer} (retain passes
 *       eos), target -100, position 0, segment -1.
 *   <li>Packing: greedy in plan order, documents never split, one source per row (so per-source
 *       losses such as distillation on general rows stay possible), batches mix rows.
 *   <li>Replay: n_g = round(N_domain * r / (1 - r)) general examples per epoch; general sources share
 *       those by weight; all seeded from (seed, epoch) with SplitMix64, so a resumed run rebuilds the
 *       epoch and skips to batch k.
 * </ul>
 */
package dev.retain.data;
