import ImprintCore
import Testing

@Suite struct YesNoTests {
    /// yes, true and 1 read as yes, no, false and 0 as no, in any case and with spaces around.
    @Test func readsTheWords() throws {
        for word in ["yes", "YES", "True", "1", " yes "] { #expect(try YesNo.parse(word, field: "enroll")) }
        for word in ["no", "No", "FALSE", "0"] { #expect(try !YesNo.parse(word, field: "enroll")) }
    }

    /// Anything else is refused naming the field and the value; what `text` writes reads back the same.
    @Test func refusesOtherWordsAndReadsItsOwnText() throws {
        #expect(throws: CoreError.invalidValue(field: "--enroll", value: "maybe", reason: "use yes or no")) {
            try YesNo.parse("maybe", field: "--enroll")
        }
        #expect(throws: CoreError.self) { try YesNo.parse("", field: "enroll") }
        for value in [true, false] { #expect(try YesNo.parse(YesNo.text(value), field: "enroll") == value) }
    }
}
