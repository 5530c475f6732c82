/// The ChatML prompt format used by SmolLM2-Instruct.
///
/// Each message is `<|im_start|>{role}\n{content}<|im_end|>\n`; a prompt meant for
/// generation ends with `<|im_start|>assistant\n`. No system message is inserted unless
/// one is given (the Jinja template stored in the GGUF adds a default system prompt; the
/// reference prompts of this project deliberately do not).
public enum ChatTemplate {
    /// One chat message.
    public struct Message: Sendable, Equatable {
        public var role: String
        public var content: String

        public init(role: String, content: String) {
            self.role = role
            self.content = content
        }
    }

    /// `<|im_start|>`: opens a message.
    public static let imStart = "<|im_start|>"
    /// `<|im_end|>`: closes a message (and is SmolLM2's end-of-sequence token).
    public static let imEnd = "<|im_end|>"

    /// Formats messages as ChatML, optionally followed by the assistant generation prompt.
    public static func chatML(_ messages: [Message], addGenerationPrompt: Bool = true) -> String {
        var text = ""
        for m in messages {
            text += "\(imStart)\(m.role)\n\(m.content)\(imEnd)\n"
        }
        if addGenerationPrompt { text += "\(imStart)assistant\n" }
        return text
    }

    /// `<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n`.
    public static func userPrompt(_ prompt: String) -> String {
        chatML([Message(role: "user", content: prompt)])
    }
}
