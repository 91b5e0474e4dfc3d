import AdapterAuslaenderbehoerde
import AdapterFHIR
import AdapterJugendamt
import AdapterMassArbeit
import AdapterWeicheJSON
import WeicheCore

/// The adapters this build of `weiche` ships, listed explicitly: nothing registers itself.
/// Add a new adapter's module to `Package.swift` and to this list.
enum AdapterRegistry {
    static let adapters: [any AgencyAdapter] = [
        WeicheJSONAdapter(),
        MassArbeitAdapter(),
        JugendamtAdapter(),
        AuslaenderbehoerdeAdapter(),
        FHIRAdapter(),
    ]

    static var names: Set<String> { Set(adapters.map { type(of: $0).name }) }
}
