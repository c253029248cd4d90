import Foundation

/// Builds, with the real tools, a tree holding every kind of file an image keeps (the tests run as root).
/// Returns the tree's path; the socket in it is named `sock`.
public func makeEveryKindTree(in folder: TemporaryDirectory) throws -> String {
    let root = folder.file("source")
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    let script = #"""
        set -e
        cd "$1"
        mkdir -p etc/ssh var/log var/lib/imprint home/alice usr/bin tmp deep/acl
        echo unit-07 > etc/hostname
        echo 0123456789abcdef0123456789abcdef > etc/machine-id
        printf 'private' > etc/ssh/ssh_host_ed25519_key && chmod 600 etc/ssh/ssh_host_ed25519_key
        echo boot > var/log/syslog
        echo '{}' > var/lib/imprint/state.json
        echo 'ls -la' > home/alice/.bash_history
        echo scratch > tmp/scratch
        head -c 2500000 /dev/urandom > random.bin
        seq 1 300000 > numbers.txt
        : > empty
        cp /bin/true usr/bin/pinger
        setfattr -n security.capability -v 0x0100000200200000000000000000000000000000 usr/bin/pinger
        cp /bin/true usr/bin/setuid && chmod 4755 usr/bin/setuid
        cp /bin/true usr/bin/setgid && chmod 2711 usr/bin/setgid
        mkdir sticky && chmod 1777 sticky
        ln -s ../etc/hostname relative-link
        ln -s /etc/passwd absolute-link
        ln etc/hostname hard-link
        mknod char-device c 1 3
        mknod block-device b 7 0
        mkfifo fifo
        setfattr -n user.comment -v 'kept by imprint' etc/hostname
        setfacl -m u:1234:rwx,g:4321:r deep/acl
        setfacl -d -m g:50:rx deep/acl
        chown 1234:5678 home/alice
        chown -h 42:43 relative-link
        chown 3000000:3000001 numbers.txt
        truncate -s 20M sparse.img
        printf 'middle' | dd of=sparse.img bs=1 seek=9000000 conv=notrunc status=none
        printf 'end' | dd of=sparse.img bs=1 seek=15000000 conv=notrunc status=none
        long="deep/$(printf 'a%.0s' $(seq 1 120))/$(printf 'b%.0s' $(seq 1 110))"
        mkdir -p "$long" && echo deep > "$long/$(printf 'c%.0s' $(seq 1 150))"
        echo latin1 > "$(printf 'caf\351-\377')"
        touch -h -d '2020-01-02 03:04:05.123456789' etc/hostname relative-link
        touch -d '1999-12-31 23:59:59.5' deep/acl
        python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("sock")'
        """#
    let result = try runProcess("/bin/bash", ["-c", script, "fixture", root])
    guard result.status == 0 else { throw TestSupportError("building the every-kind tree failed: \(result.error)") }
    return root
}
