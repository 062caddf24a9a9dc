package dev.retain.data;

import dev.retain.data.RawExample.Chat;
import dev.retain.data.RawExample.Message;
import dev.retain.data.RawExample.PromptCompletion;
import dev.retain.data.RawExample.Role;
import dev.retain.data.RawExample.Text;
import dev.retain.model.Tokenizer;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Turns a {@link RawExample} into token ids and a loss mask, the same way for training, validation
 * and probes. bos and eos come from the model's config.json (the tokenizer adds no special tokens);
 * a negative bos means the model has none and it is left out. Pieces are tokenised separately and
 * concatenated, so a token never straddles a prompt/completion or role/content boundary (the ids of
 * {@code enc(a) + enc(b)} can differ from {@code enc(a + b)}; at inference, build prompts with the
 * same pieces, e.g. {@link #chatPrompt}). Targets (marked *):
 *
 * <ul>
 *   <li>text: {@code bos, enc(text)*, eos*};
 *   <li>prompt/completion: {@code bos, enc(prompt), enc(completion)*, eos*};
 *   <li>messages (template version {@value #TEMPLATE_VERSION}): {@code bos}, then for each message
 *       {@code enc(role + ": ")}, then {@code enc(content)}, then for an assistant message {@code eos}
 *       and for any other message {@code enc("\n")}; the contents of assistant messages and their
 *       eos are the targets. As text: {@code "<s>system: S\nuser: U\nassistant: A</s>user: ..."},
 *       with role names in lower case. To generate a reply, feed {@link #chatPrompt} and stop at eos.
 * </ul>
 *
 * <p>{@link #encode} returns the full example; the loader cuts it to {@link #maxTokens()} =
 * seqLen + 1 tokens (the most one packed row of seqLen input positions can hold) and counts it.
 */
public final class Encoder {
  /** Changes whenever the token layout above changes; part of the token-cache key. */
  public static final int TEMPLATE_VERSION = 1;

  private final Tokenizer tokenizer;
  private final int bos;
  private final int eos;
  private final int seqLen;
  private final int[] newline;
  private final Map<Role, int[]> headers = new EnumMap<>(Role.class);

  /**
   * @param bos begin-of-sequence id, or negative for none
   * @param eos end-of-sequence id (required: it ends every document and is a target)
   * @param seqLen input positions of one packed row; examples are cut to seqLen + 1 tokens
   */
  public Encoder(Tokenizer tokenizer, int bos, int eos, int seqLen) {
    this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
    if (eos < 0) {
      throw new IllegalArgumentException("eos id is " + eos + "; the model's config.json must give eos_token_id (every example ends with eos)");
    }
    if (seqLen < 1) {
      throw new IllegalArgumentException("seqLen must be at least 1, got " + seqLen);
    }
    this.bos = bos;
    this.eos = eos;
    this.seqLen = seqLen;
    this.newline = tokenizer.encode("\n");
    for (Role r : Role.values()) {
      headers.put(r, tokenizer.encode(header(r)));
    }
  }

  /** The text that starts a message of role {@code r} in the chat template: {@code "user: "}. */
  public static String header(Role r) {
    return r.jsonName() + ": ";
  }

  public Tokenizer tokenizer() {
    return tokenizer;
  }

  public int bos() {
    return bos;
  }

  public int eos() {
    return eos;
  }

  public int seqLen() {
    return seqLen;
  }

  /** The longest example kept whole: seqLen + 1 tokens, i.e. seqLen input positions. */
  public int maxTokens() {
    return seqLen + 1;
  }

  /** Everything that changes the tokens this encoder produces, for the token cache key. */
  public String cacheKey() {
    return "tokenizer=" + tokenizer.fingerprint() + "\nbos=" + bos + "\neos=" + eos + "\nmaxTokens=" + maxTokens()
        + "\ntemplate=" + TEMPLATE_VERSION;
  }

  /** The full (uncut) example. */
  public Example encode(RawExample record) {
    Builder b = new Builder();
    if (bos >= 0) {
      b.add(bos, false);
    }
    if (record instanceof Text t) {
      b.add(tokenizer.encode(t.text()), true);
      b.add(eos, true);
    } else if (record instanceof PromptCompletion pc) {
      b.add(tokenizer.encode(pc.prompt()), false);
      b.add(tokenizer.encode(pc.completion()), true);
      b.add(eos, true);
    } else if (record instanceof Chat c) {
      for (Message m : c.messages()) {
        boolean assistant = m.role() == Role.ASSISTANT;
        b.add(headers.get(m.role()), false);
        b.add(tokenizer.encode(m.content()), assistant);
        if (assistant) {
          b.add(eos, true);
        } else {
          b.add(newline, false);
        }
      }
    } else {
      throw new IllegalArgumentException("unknown record " + record);
    }
    return b.build();
  }

  /**
   * Ids to feed for generating the next assistant reply: bos, the messages rendered as in training,
   * then the assistant header. Generation should stop at eos.
   */
  public int[] chatPrompt(List<Message> history) {
    Builder b = new Builder();
    if (bos >= 0) {
      b.add(bos, false);
    }
    for (Message m : history) {
      b.add(headers.get(m.role()), false);
      b.add(tokenizer.encode(m.content()), false);
      if (m.role() == Role.ASSISTANT) {
        b.add(eos, false);
      } else {
        b.add(newline, false);
      }
    }
    b.add(headers.get(Role.ASSISTANT), false);
    return Arrays.copyOf(b.ids, b.n);
  }

  /** Ids to feed for a prompt/completion probe: bos + enc(prompt). */
  public int[] completionPrompt(String prompt) {
    int[] p = tokenizer.encode(prompt);
    if (bos < 0) {
      return p;
    }
    int[] out = new int[p.length + 1];
    out[0] = bos;
    System.arraycopy(p, 0, out, 1, p.length);
    return out;
  }

  private static final class Builder {
    int[] ids = new int[64];
    boolean[] target = new boolean[64];
    int n;

    void add(int id, boolean t) {
      if (n == ids.length) {
        ids = Arrays.copyOf(ids, n * 2);
        target = Arrays.copyOf(target, n * 2);
      }
      ids[n] = id;
      target[n] = t;
      n++;
    }

    void add(int[] toks, boolean t) {
      for (int id : toks) {
        add(id, t);
      }
    }

    Example build() {
      return new Example(Arrays.copyOf(ids, n), Arrays.copyOf(target, n), true);
    }
  }
}
