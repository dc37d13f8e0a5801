import Foundation

/// Loads the suite's vectors (spec/vectors/*.json, copied next to this file).
enum Vectors {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("vectors")

    static func load(_ name: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        let root = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return root["vectors"] as! [[String: Any]]
    }

    /// A byte string of spec/vectors/README.md: `{"base64": ..., "escaped": ...}`.
    static func bytes(_ object: Any?) -> [UInt8]? {
        guard let object = object as? [String: Any], let base64 = object["base64"] as? String else { return nil }
        return [UInt8](Data(base64Encoded: base64)!)
    }

    static func escaped(_ object: Any?) -> String {
        (object as? [String: Any])?["escaped"] as? String ?? "null"
    }
}
