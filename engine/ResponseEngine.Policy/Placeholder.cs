namespace ResponseEngine.Policy; internal static class Placeholder { }
