namespace ResponseEngine.Core.Tests; public class Smoke { [Fact] public void Works() => (1+1).Should().Be(2); }
