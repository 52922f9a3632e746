namespace ResponseEngine.Findings;

/// <summary>The directories the engine acts on.</summary>
public enum Provider
{
    Ad,
    Entra,
    Okta,
}

public static class Providers
{
    public static IReadOnlyList<Provider> All { get; } = [Provider.Ad, Provider.Entra, Provider.Okta];

    public static IReadOnlyList<string> Names { get; } = ["ad", "entra", "okta"];

    public static string Name(this Provider provider) => provider switch
    {
        Provider.Ad => "ad",
        Provider.Entra => "entra",
        Provider.Okta => "okta",
        _ => throw new ArgumentOutOfRangeException(nameof(provider)),
    };

    public static bool TryParse(string? text, out Provider provider)
    {
        switch (text)
        {
            case "ad": provider = Provider.Ad; return true;
            case "entra": provider = Provider.Entra; return true;
            case "okta": provider = Provider.Okta; return true;
            default: provider = default; return false;
        }
    }
}
