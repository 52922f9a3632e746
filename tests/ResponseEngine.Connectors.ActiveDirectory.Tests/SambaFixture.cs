using ResponseEngine.TestKit.ActiveDirectory;

[assembly: AssemblyFixture(typeof(SambaDc))]

// One DC serves every test, and the contract seeds the same account names each time: tests take turns.
[assembly: CollectionBehavior(CollectionBehavior.CollectionPerAssembly)]
