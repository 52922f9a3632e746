using System.Security.Cryptography;
using System.Text;
using ResponseEngine.Configuration;

namespace ResponseEngine.Service.Console;

/// <summary>An API token as the service keeps it: its name (the audit's actor), its role, and the SHA-256 of the token; never the token.</summary>
public sealed record ApiToken(string Name, ConsoleRole Role, byte[] Sha256);

/// <summary>
/// The console's secrets, read once from the environment variables respond.yaml names: the OIDC client secret and
/// the API tokens (hashed at once). Nothing here is logged or shown.
/// </summary>
public sealed record ConsoleCredentials(string? ClientSecret, IReadOnlyList<ApiToken> Tokens)
{
    public static ConsoleCredentials None { get; } = new(null, []);

    /// <summary>The credentials, or the problems that stop `respond serve` (a named variable unset or empty).</summary>
    public static (ConsoleCredentials Credentials, IReadOnlyList<string> Problems) FromEnvironment(ConsoleOptions options, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(environment);
        var problems = new List<string>();
        if (!options.Enabled) return (None, problems);
        string? secret = null;
        if (options.Oidc?.ClientSecretEnv is { } secretEnv)
        {
            secret = environment(secretEnv);
            if (string.IsNullOrEmpty(secret)) problems.Add($"console.oidc.client_secret_env names {secretEnv}, which is not set");
        }

        var tokens = new List<ApiToken>();
        foreach (var token in options.Tokens)
        {
            if (token.Sha256 is { } hex)
            {
                tokens.Add(new ApiToken(token.Name, token.Role, Convert.FromHexString(hex)));
            }
            else if (token.Env is { } env)
            {
                var value = environment(env);
                if (string.IsNullOrEmpty(value)) problems.Add($"console.tokens.{token.Name}.env names {env}, which is not set");
                else tokens.Add(new ApiToken(token.Name, token.Role, Hash(value)));
            }
        }

        return (new ConsoleCredentials(secret, tokens), problems);
    }

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>The token whose hash matches, compared in constant time against every configured token.</summary>
    public ApiToken? Match(string presented)
    {
        var hash = Hash(presented);
        ApiToken? found = null;
        foreach (var token in Tokens)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, token.Sha256)) found = token;
        }

        return found;
    }
}
