/// The prompts and parsing of orchestration steps, shared by the engine's in-process
/// orchestrator and the Temporal OrchestrationWorkflow so both ask the models the same things.
public enum OrchestrationPrompts {
    /// Rounds of critique and refinement for adversarial (1 to 10).
    public static func adversarialRounds(_ directive: OrchestrationDirective) -> Int { min(max(1, directive.iterations), 10) }
    /// Voters for vote (default 3, at most 16).
    public static func voters(_ directive: OrchestrationDirective) -> Int { directive.iterations > 0 ? min(directive.iterations, 16) : 3 }
    /// Improvements for refine (default 2, at most 10).
    public static func refinements(_ directive: OrchestrationDirective) -> Int { directive.iterations > 0 ? min(directive.iterations, 10) : 2 }

    /// The task: the text of the last user message.
    public static func task(of request: ChatRequest) -> String {
        text(of: request.messages.last { $0["role"]?.stringValue == "user" }?["content"])
    }

    /// A message's text: a string, or the text parts of a content array.
    public static func text(of content: JSONValue?) -> String {
        switch content {
        case .string(let text)?: text
        case .array(let parts)?: parts.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
        default: ""
        }
    }

    /// Asks the reviewer to critique `plan`.
    public static func critique(task: String, plan: String) -> String {
        "Critique this plan for the task below. List concrete flaws and risks.\n\nTask:\n\(task)\n\nPlan:\n\(plan)"
    }

    /// Asks the primary model to improve `plan` given `critique`.
    public static func refinePlan(task: String, plan: String, critique: String) -> String {
        "Task:\n\(task)\n\nPlan:\n\(plan)\n\nCritique:\n\(critique)\n\nWrite the improved plan."
    }

    /// Asks the judge to pick the best of `answers`.
    public static func judge(task: String, answers: [String]) -> String {
        let ballot = answers.enumerated().map { "Answer \($0.offset + 1):\n\($0.element)" }.joined(separator: "\n\n")
        return "Task:\n\(task)\n\n\(ballot)\n\nReply with only the number of the best answer."
    }

    /// Asks for an improved `answer`.
    public static func improve(task: String, answer: String) -> String {
        "Task:\n\(task)\n\nCurrent answer:\n\(answer)\n\nImprove this answer. Reply with the improved answer only."
    }

    /// The judge's pick as an index into `count` answers (the first when it names none).
    public static func selectedIndex(verdict: String, count: Int) -> Int {
        let digits = verdict.drop { !$0.isNumber }.prefix { $0.isNumber }
        guard let number = Int(digits), count > 0 else { return 0 }
        return min(max(number - 1, 0), count - 1)
    }

    /// The assistant text of an OpenAI-shaped chat completion.
    public static func content(of response: JSONValue) -> String {
        response["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue ?? ""
    }

    /// A user message.
    public static func user(_ text: String) -> JSONValue {
        .object(["role": .string("user"), "content": .string(text)])
    }
}
