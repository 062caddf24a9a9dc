package dev.retain.data;

import java.util.List;
import java.util.Objects;

/**
 * One line of a JSONL source before tokenisation. The three shapes people already use for
 * fine-tuning data: plain text, prompt/completion, and chat messages. Each shape decides which tokens
 * are trained on (see {@link Encoder}).
 */
public sealed interface RawExample {

  /** {@code {"text": "..."}}: every token is trained on. */
  record Text(String text) implements RawExample {
    public Text {
      Objects.requireNonNull(text, "text");
    }
  }

  /** {@code {"prompt": "...", "completion": "..."}}: only the completion (and eos) is trained on. */
  record PromptCompletion(String prompt, String completion) implements RawExample {
    public PromptCompletion {
      Objects.requireNonNull(prompt, "prompt");
      Objects.requireNonNull(completion, "completion");
    }
  }

  /** {@code {"messages": [{"role": ..., "content": ...}, ...]}}: assistant turns are trained on. */
  record Chat(List<Message> messages) implements RawExample {
    public Chat {
      messages = List.copyOf(messages);
    }
  }

  /** One chat turn. */
  record Message(Role role, String content) {
    public Message {
      Objects.requireNonNull(role, "role");
      Objects.requireNonNull(content, "content");
    }
  }

  /** The chat roles retain understands; the JSON spelling is the lower-case name. */
  enum Role {
    SYSTEM,
    USER,
    ASSISTANT;

    /** The name as written in JSONL and in the chat template ({@code "assistant"}). */
    public String jsonName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The role for a JSON name, or null if it is not one of system, user, assistant. */
    public static Role fromJson(String name) {
      for (Role r : values()) {
        if (r.jsonName().equals(name)) {
          return r;
        }
      }
      return null;
    }
  }
}
