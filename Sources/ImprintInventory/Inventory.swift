import Foundation
import GRDB
import Glibc
import ImprintCore

/// The local SQLite inventory: units, their identifiers and network, groups, printers and the history of agent runs.
///
/// This type owns the schema and is the only way to change the data, so the invariants hold: identifiers are
/// unique across units, a unit's revision grows with every change that affects it (its group's and printers'
/// included), and every write is one transaction.
public final class Inventory: Sendable {
    /// Where the inventory lives when neither `--inventory` nor `IMPRINT_INVENTORY` says otherwise.
    public static let defaultPath = ImprintPaths.inventory

    public let path: String
    let queue: DatabaseQueue
    let clock: @Sendable () -> Date

    /// Opens an existing inventory.
    /// - Parameters:
    ///   - path: the database file.
    ///   - readOnly: open without write access (identify, show), so a reader never changes the file.
    ///   - clock: the time stamped on records, injectable for tests.
    public init(path: String, readOnly: Bool = false, clock: @escaping @Sendable () -> Date = Date.init) throws(InventoryError) {
        if let problem = Self.fileProblem(path) { throw problem }
        self.path = path
        self.clock = clock
        var configuration = Configuration()
        configuration.readonly = readOnly
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            if readOnly {
                let complete = try queue.read { db in try Self.migrator.hasCompletedMigrations(db) }
                if !complete {
                    throw InventoryError.database(
                        path: path, reason: "its schema is older than this Imprint; run 'imprint inventory init' to upgrade it")
                }
            } else {
                try Self.migrator.migrate(queue)
            }
        } catch let error as InventoryError {
            throw error
        } catch {
            throw .database(path: path, reason: Self.describe(error, path: path, readOnly: readOnly), underlying: "\(error)")
        }
    }

    /// An inventory on a queue already open (a copy in memory).
    init(path: String, queue: DatabaseQueue, clock: @escaping @Sendable () -> Date) {
        self.path = path
        self.queue = queue
        self.clock = clock
    }

    /// Whether this inventory was opened without write access.
    public var isReadOnly: Bool { queue.configuration.readonly }

    /// A copy of this inventory in memory, for a dry run that plans a write it must not make (and may not be able to).
    func scratchCopy() throws(InventoryError) -> Inventory {
        try translatingErrors {
            let copy = try DatabaseQueue()
            try queue.backup(to: copy)
            return Inventory(path: path, queue: copy, clock: clock)
        }
    }

    /// Creates the inventory file (mode 0600, since it may hold Wi-Fi keys) and its folder if needed, then brings the
    /// schema up to date. Running it on an existing inventory only upgrades the schema.
    public static func create(path: String, clock: @escaping @Sendable () -> Date = Date.init) throws(InventoryError) -> Inventory {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty && !FileManager.default.fileExists(atPath: folder) {
            do {
                try FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw .database(path: path, reason: "cannot create its folder: \(error.localizedDescription)")
            }
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            close(descriptor)
        } else if errno != EEXIST {
            throw .database(path: path, reason: "cannot create it: \(String(cString: strerror(errno)))")
        }
        return try Inventory(path: path, clock: clock)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 units, identifiers, groups, printers, history") { db in
            try db.execute(sql: """
                CREATE TABLE printer (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    deviceURI TEXT NOT NULL,
                    driver TEXT NOT NULL,
                    location TEXT,
                    description TEXT
                );
                CREATE TABLE unitGroup (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    domain TEXT,
                    dns TEXT NOT NULL DEFAULT '',
                    search TEXT NOT NULL DEFAULT '',
                    networkMode TEXT NOT NULL DEFAULT 'dhcp' CHECK (networkMode IN ('dhcp', 'static')),
                    networkStack TEXT
                        CHECK (networkStack IN ('netplan', 'networkmanager', 'networkd', 'ifupdown', 'ifcfg')),
                    namingPattern TEXT,
                    enroll BOOLEAN NOT NULL DEFAULT 0,
                    defaultPrinterId INTEGER REFERENCES printer(id) ON DELETE RESTRICT
                );
                CREATE TABLE groupPrinter (
                    groupId INTEGER NOT NULL REFERENCES unitGroup(id) ON DELETE CASCADE,
                    printerId INTEGER NOT NULL REFERENCES printer(id) ON DELETE RESTRICT,
                    position INTEGER NOT NULL,
                    PRIMARY KEY (groupId, printerId)
                );
                CREATE TABLE unit (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    hostname TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    domain TEXT,
                    groupId INTEGER REFERENCES unitGroup(id) ON DELETE RESTRICT,
                    model TEXT,
                    notes TEXT,
                    defaultPrinterId INTEGER REFERENCES printer(id) ON DELETE RESTRICT,
                    revision INTEGER NOT NULL DEFAULT 1 CHECK (revision >= 1),
                    createdAt DATETIME NOT NULL,
                    updatedAt DATETIME NOT NULL
                );
                CREATE INDEX unit_groupId ON unit(groupId);
                CREATE TABLE identifier (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    unitId INTEGER NOT NULL REFERENCES unit(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL CHECK (kind IN ('serial', 'uuid', 'asset', 'mac')),
                    value TEXT NOT NULL,
                    UNIQUE (kind, value)
                );
                CREATE INDEX identifier_unitId ON identifier(unitId);
                CREATE TABLE interface (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    unitId INTEGER NOT NULL REFERENCES unit(id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    mac TEXT NOT NULL,
                    addresses TEXT NOT NULL DEFAULT '',
                    gateway4 TEXT,
                    gateway6 TEXT,
                    dns TEXT NOT NULL DEFAULT '',
                    search TEXT NOT NULL DEFAULT '',
                    mtu INTEGER,
                    wifiSSID TEXT,
                    wifiPassphrase TEXT,
                    UNIQUE (unitId, mac)
                );
                CREATE TABLE unitPrinter (
                    unitId INTEGER NOT NULL REFERENCES unit(id) ON DELETE CASCADE,
                    printerId INTEGER NOT NULL REFERENCES printer(id) ON DELETE RESTRICT,
                    position INTEGER NOT NULL,
                    PRIMARY KEY (unitId, printerId)
                );
                CREATE TABLE history (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    unitId INTEGER REFERENCES unit(id) ON DELETE SET NULL,
                    hostname TEXT NOT NULL,
                    time DATETIME NOT NULL,
                    source TEXT NOT NULL,
                    result TEXT NOT NULL,
                    revision INTEGER NOT NULL,
                    identity TEXT NOT NULL DEFAULT '{}'
                );
                CREATE INDEX history_unitId ON history(unitId);
                """)
        }
        migrator.registerMigration("v2 unit netplan text and network stack") { db in
            try db.execute(sql: """
                ALTER TABLE unit ADD COLUMN netplan TEXT;
                ALTER TABLE unit ADD COLUMN networkStack TEXT
                    CHECK (networkStack IN ('netplan', 'networkmanager', 'networkd', 'ifupdown', 'ifcfg'));
                """)
        }
        migrator.registerMigration("v3 deployment windows, unit keys, reports and audit") { db in
            try db.execute(sql: """
                CREATE TABLE deploymentWindow (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    groupId INTEGER NOT NULL REFERENCES unitGroup(id) ON DELETE CASCADE,
                    actions TEXT NOT NULL,
                    image TEXT,
                    opened DATETIME NOT NULL,
                    expires DATETIME NOT NULL,
                    closed DATETIME,
                    maximumNewUnits INTEGER NOT NULL DEFAULT 0 CHECK (maximumNewUnits >= 0),
                    enrolled INTEGER NOT NULL DEFAULT 0 CHECK (enrolled <= maximumNewUnits),
                    openedBy TEXT NOT NULL
                );
                CREATE INDEX deploymentWindow_groupId ON deploymentWindow(groupId);
                CREATE TABLE unitDeployment (
                    unitId INTEGER PRIMARY KEY REFERENCES unit(id) ON DELETE CASCADE,
                    keyDigest BLOB,
                    armedBy INTEGER REFERENCES deploymentWindow(id) ON DELETE SET NULL,
                    armedAt DATETIME,
                    protected BOOLEAN NOT NULL DEFAULT 0,
                    approvedIn INTEGER REFERENCES deploymentWindow(id) ON DELETE SET NULL,
                    state TEXT NOT NULL DEFAULT 'idle',
                    percent INTEGER CHECK (percent BETWEEN 0 AND 100),
                    image TEXT,
                    lastReport DATETIME,
                    lastResult TEXT,
                    error TEXT
                );
                CREATE TABLE audit (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    time DATETIME NOT NULL,
                    actor TEXT NOT NULL,
                    event TEXT NOT NULL,
                    unit TEXT,
                    groupName TEXT,
                    detail TEXT NOT NULL
                );
                CREATE TABLE adminCredential (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    digest BLOB NOT NULL,
                    created DATETIME NOT NULL
                );
                """)
        }
        // A netplan document may bind a card by its kernel name instead of its MAC, and rename it (set-name); SQLite
        // cannot drop a column's NOT NULL, so the table is rebuilt with the same rows.
        migrator.registerMigration("v4 interface rows bound by a card's name") { db in
            try db.execute(sql: """
                CREATE TABLE interfaceByName (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    unitId INTEGER NOT NULL REFERENCES unit(id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    mac TEXT,
                    name TEXT,
                    setName TEXT,
                    addresses TEXT NOT NULL DEFAULT '',
                    gateway4 TEXT,
                    gateway6 TEXT,
                    dns TEXT NOT NULL DEFAULT '',
                    search TEXT NOT NULL DEFAULT '',
                    mtu INTEGER,
                    wifiSSID TEXT,
                    wifiPassphrase TEXT,
                    CHECK (mac IS NOT NULL OR name IS NOT NULL),
                    CHECK (setName IS NULL OR mac IS NOT NULL),
                    UNIQUE (unitId, mac),
                    UNIQUE (unitId, name)
                );
                INSERT INTO interfaceByName
                    (id, unitId, position, mac, addresses, gateway4, gateway6, dns, search, mtu, wifiSSID, wifiPassphrase)
                    SELECT id, unitId, position, mac, addresses, gateway4, gateway6, dns, search, mtu, wifiSSID, wifiPassphrase
                    FROM interface;
                DROP TABLE interface;
                ALTER TABLE interfaceByName RENAME TO interface;
                """)
        }
        // Custom fields (declared once, valued per unit and per group) and the files attached to a group or a unit.
        migrator.registerMigration("v5 custom fields and attached files") { db in
            try db.execute(sql: """
                CREATE TABLE customField (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL UNIQUE,
                    secret BOOLEAN NOT NULL DEFAULT 0
                );
                CREATE TABLE unitFieldValue (
                    unitId INTEGER NOT NULL REFERENCES unit(id) ON DELETE CASCADE,
                    fieldId INTEGER NOT NULL REFERENCES customField(id) ON DELETE CASCADE,
                    value TEXT NOT NULL,
                    PRIMARY KEY (unitId, fieldId)
                );
                CREATE TABLE groupFieldValue (
                    groupId INTEGER NOT NULL REFERENCES unitGroup(id) ON DELETE CASCADE,
                    fieldId INTEGER NOT NULL REFERENCES customField(id) ON DELETE CASCADE,
                    value TEXT NOT NULL,
                    PRIMARY KEY (groupId, fieldId)
                );
                CREATE TABLE attachedFile (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    unitId INTEGER REFERENCES unit(id) ON DELETE CASCADE,
                    groupId INTEGER REFERENCES unitGroup(id) ON DELETE CASCADE,
                    path TEXT NOT NULL,
                    template TEXT,
                    field TEXT,
                    mode INTEGER CHECK (mode BETWEEN 0 AND 511),
                    owner TEXT NOT NULL DEFAULT 'root',
                    fileGroup TEXT NOT NULL DEFAULT 'root',
                    secret BOOLEAN NOT NULL DEFAULT 0,
                    CHECK ((unitId IS NULL) <> (groupId IS NULL)),
                    CHECK ((template IS NULL) <> (field IS NULL)),
                    UNIQUE (unitId, path),
                    UNIQUE (groupId, path)
                );
                CREATE INDEX attachedFile_groupId ON attachedFile(groupId);
                """)
        }
        // Local accounts (a kiosk user, an exam account) given to a group's units or one unit.
        migrator.registerMigration("v6 local accounts") { db in
            try db.execute(sql: """
                CREATE TABLE localAccount (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    unitId INTEGER REFERENCES unit(id) ON DELETE CASCADE,
                    groupId INTEGER REFERENCES unitGroup(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    groups TEXT NOT NULL DEFAULT '',
                    shell TEXT NOT NULL,
                    passwordHash TEXT,
                    autologin BOOLEAN NOT NULL DEFAULT 0,
                    CHECK ((unitId IS NULL) <> (groupId IS NULL)),
                    UNIQUE (unitId, name),
                    UNIQUE (groupId, name)
                );
                """)
        }
        // Commands the agent runs offline in a chroot of the unit's root after the files are in place, or on the unit
        // at first boot once the network is up.
        migrator.registerMigration("v7 hooks") { db in
            try db.execute(sql: """
                CREATE TABLE hook (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    unitId INTEGER REFERENCES unit(id) ON DELETE CASCADE,
                    groupId INTEGER REFERENCES unitGroup(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    command TEXT NOT NULL,
                    timeout INTEGER NOT NULL CHECK (timeout BETWEEN 1 AND 86400),
                    phase TEXT NOT NULL DEFAULT 'offline' CHECK (phase IN ('offline', 'first-boot')),
                    position INTEGER NOT NULL,
                    CHECK ((unitId IS NULL) <> (groupId IS NULL)),
                    UNIQUE (unitId, name),
                    UNIQUE (groupId, name)
                );
                """)
        }
        // A group's network document, a template of each unit's values (a room's bridge or VLAN written once).
        migrator.registerMigration("v8 group network document") { db in
            try db.execute(sql: "ALTER TABLE unitGroup ADD COLUMN netplan TEXT")
        }
        return migrator
    }

    /// Runs `body` in one write transaction, translating database failures into inventory errors.
    /// - Parameters:
    ///   - commit: false to roll back what `body` did even when it succeeds (a dry run).
    func write<T>(commit: Bool = true, _ body: (Database) throws -> T) throws(InventoryError) -> T {
        try transaction(.immediate, commit: commit, body)
    }

    /// Runs `body` in a read transaction (one snapshot of the database), translating database failures into
    /// inventory errors.
    ///
    /// Not GRDB's `read`: on a connection that may write it turns `PRAGMA query_only` on and off around each
    /// transaction, and SQLite expires every prepared statement when such a pragma changes, so each cached statement
    /// was compiled again at every read (a third of the server's time answering identify).
    func read<T>(_ body: (Database) throws -> T) throws(InventoryError) -> T {
        try transaction(.deferred, commit: true, body)
    }

    /// Runs `body` in one transaction of `kind` on the queue's connection, committed or (`commit` false) rolled back.
    private func transaction<T>(
        _ kind: Database.TransactionKind, commit: Bool, _ body: (Database) throws -> T
    ) throws(InventoryError) -> T {
        try translatingErrors {
            try queue.inDatabase { db in
                var result: T?
                try db.inTransaction(kind) {
                    result = try body(db)
                    return commit ? .commit : .rollback
                }
                guard let result else { throw InventoryError.database(path: path, reason: "a transaction returned nothing") }
                return result
            }
        }
    }

    /// Runs `body`, turning what it throws into an inventory error: core validation errors as invalid values,
    /// database errors with a reason the admin can act on.
    func translatingErrors<T>(_ body: () throws -> T) throws(InventoryError) -> T {
        do {
            return try body()
        } catch let error as InventoryError {
            throw error
        } catch let error as CoreError {
            throw .invalid(error)
        } catch {
            throw .database(path: path, reason: Self.describe(error, path: path), underlying: "\(error)")
        }
    }

    /// What went wrong with the database at `path`, in words the admin can act on.
    static func describe(_ error: any Error, path: String, readOnly: Bool = false) -> String {
        if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return "another Imprint is writing to it; try again in a moment"
            case .SQLITE_READONLY:
                return "it is read-only for this user; run as root or copy it"
            case .SQLITE_NOTADB, .SQLITE_CORRUPT:
                return "it is not an Imprint inventory (or it is damaged); restore it from an export"
            case .SQLITE_CANTOPEN:
                return cannotOpen(path, readOnly: readOnly)
            default:
                return error.message ?? "\(error)"
            }
        }
        return "\(error)"
    }

    /// Why there is no inventory file at `path` to open, in the words SQLite would not find (it says "unable to open
    /// database file" or "disk I/O error" for all of these); nil when there is a file.
    static func fileProblem(_ path: String) -> InventoryError? {
        var status = stat()
        guard stat(path, &status) == 0 else {
            let code = errno
            switch code {
            case ENOENT:
                return .missingDatabase(path: path)
            case ENOTDIR:
                var folder = (path as NSString).deletingLastPathComponent
                var file = folder
                while !folder.isEmpty && folder != "/" {
                    var parent = stat()
                    if stat(folder, &parent) == 0 && parent.st_mode & S_IFMT != S_IFDIR { file = folder }
                    folder = (folder as NSString).deletingLastPathComponent
                }
                return .database(
                    path: path,
                    reason: "\(quoted(file)) on its way is a file, not a folder; point --inventory at the inventory file")
            case EACCES:
                return .database(
                    path: path, reason: "permission denied on a folder on its way; run imprint as root (sudo), or give this user "
                        + "access to the folders (chmod o+x)")
            default:
                return .database(path: path, reason: "cannot reach it: \(systemMessage(code))")
            }
        }
        if status.st_mode & S_IFMT == S_IFDIR {
            return .database(
                path: path,
                reason: "it is a folder, not an inventory file; point --inventory at the file (such as \(defaultPath))")
        }
        return nil
    }

    /// Why SQLite could not open the file at `path` (its SQLITE_CANTOPEN says only "unable to open database file"),
    /// found by opening it the same way, and what to do.
    static func cannotOpen(_ path: String, readOnly: Bool) -> String {
        let access = readOnly ? "read" : "read and write"
        let descriptor = open(path, (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            switch code {
            case EACCES, EPERM:
                return "cannot open it: permission denied; run imprint as root (sudo), or give this user \(access) access to it"
            case EROFS:
                return "cannot open it for writing: read-only file system; copy it to a writable disk and point --inventory there"
            default:
                return "cannot open it: \(systemMessage(code)); check that it is an inventory file this user can \(access)"
            }
        }
        close(descriptor)
        let folder = (path as NSString).deletingLastPathComponent
        if !readOnly, Glibc.access(folder.isEmpty ? "." : folder, W_OK) != 0 {
            return "cannot write beside it: SQLite keeps its journal in the folder \(quoted(folder)), "
                + "which this user cannot write; run imprint as root (sudo), or give this user write access to the folder"
        }
        return "SQLite cannot open it (unable to open database file); check that it and its folder are readable for this user"
    }

    /// The system's words for `code`, lowercased as Imprint's messages are: "permission denied".
    static func systemMessage(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}
