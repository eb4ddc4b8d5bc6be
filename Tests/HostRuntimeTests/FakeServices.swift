import Foundation
import HostRuntime
import PluginAPI
import PluginKit
import Synchronization
import TokenHubCore

/// Host services for tests: answers route-and-send with a fixed ChatOutput and records calls.
final class FakeServices: HostServices {
    let routed = Mutex<[ChatInput]>([])
    let logs = Mutex<[String]>([])

    func log(plugin: String, level: LogLevel, message: String) {
        logs.withLock { $0.append("\(plugin): \(message)") }
    }

    func emitEvent(plugin: String, eventJSON: [UInt8]) {}
    func recordMetric(plugin: String, kind: MetricKind, name: String, labelsJSON: String, value: Double) {}

    func routeAndSend(_ chatInputJSON: [UInt8]) async -> PluginReply {
        guard let input = try? JSONCoding.decode(ChatInput.self, from: Data(chatInputJSON)) else {
            return .failure(.invalidArgument, "bad ChatInput")
        }
        routed.withLock { $0.append(input) }
        let output = ChatOutput(decision: Decision(modelID: "fake-model", providerID: "fake", reason: "fake"),
                                response: .object(["echo": .string(input.requestID)]))
        return PluginReply(status: .ok, result: Array(try! JSONCoding.encode(output)))
    }

    func orchestrate(_ orchestrationInputJSON: [UInt8]) async -> PluginReply { .failure(.notSupported, "no") }
    func logResult(_ logResultJSON: [UInt8]) -> PluginReply { PluginReply(status: .ok) }
}
