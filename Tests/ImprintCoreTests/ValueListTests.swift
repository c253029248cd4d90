import ImprintCore
import Testing

@Suite struct ValueListTests {
    /// Spaces, tabs, commas and semicolons all separate items, and empty items are dropped.
    @Test func splitsOnEverySeparator() {
        #expect(ValueList.split("10.0.0.53;10.0.0.54") == ["10.0.0.53", "10.0.0.54"])
        #expect(ValueList.split("a.example, b.example\tc.example;;d.example ") == ["a.example", "b.example", "c.example", "d.example"])
        #expect(ValueList.split("") == [])
        #expect(ValueList.split(" ;, ") == [])
    }

    /// The values of a repeatable option are split one by one and joined in order.
    @Test func splitsEachValueOfARepeatableOption() {
        #expect(ValueList.split(["10.0.0.1", "10.0.0.2;10.0.0.3"]) == ["10.0.0.1", "10.0.0.2", "10.0.0.3"])
    }
}
