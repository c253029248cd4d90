import ImprintCore

/// A queue in `printer list --json`, named as the CSV and `printer add` name its fields.
struct PrinterView: Encodable {
    var name: String
    var uri: String
    var driver: String
    @Nullable var location: String?
    @Nullable var description: String?

    init(_ queue: PrinterQueue) {
        name = queue.name.value
        uri = queue.deviceURI.value
        driver = queue.driver.description
        location = queue.location
        description = queue.description
    }
}
