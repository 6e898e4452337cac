import ClinferEngine
import Foundation
import Testing

// Temporary differential check against Hugging Face tokenizers (not committed).
@Test func wordPieceFuzzScratch() throws {
    guard let data = try? Data(contentsOf: URL(fileURLWithPath: "/tmp/wp-fuzz.json")) else { return }
    struct Case: Decodable { let text: String; let ids: [Int] }
    struct File: Decodable { let cases: [Case] }
    let cases = try JSONDecoder().decode(File.self, from: data).cases
    let tokenizer = try WordPieceTokenizer(directory: TestModels.directory.appendingPathComponent("all-MiniLM-L6-v2").path)
    var failures = 0
    for c in cases {
        let ids = tokenizer.encode(c.text)
        if ids != c.ids {
            failures += 1
            if failures <= 15 {
                print("MISMATCH \(c.text.unicodeScalars.map { String($0.value, radix: 16) }) \n ours \(ids)\n hf   \(c.ids)")
            }
        }
    }
    print("fuzz: \(cases.count - failures)/\(cases.count) agree")
    #expect(failures == 0)
}
