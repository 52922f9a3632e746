using System.DirectoryServices.Protocols;
using ResponseEngine.Execution;

namespace ResponseEngine.Connectors.ActiveDirectory.Ldap;

/// <summary>An LDAP failure reduced to what decides the outcome: the result code and the server's message.</summary>
public sealed record LdapFault(int Code, string Message)
{
    public const int ConstraintViolation = 19;
    public const int NoSuchAttribute = 16;
    public const int NoSuchObject = 32;
    public const int InvalidCredentials = 49;
    public const int InsufficientAccessRights = 50;
    public const int Busy = 51;
    public const int Unavailable = 52;
    public const int UnwillingToPerform = 53;
    public const int EntryAlreadyExists = 68;
    public const int ServerDown = 81;
    public const int LocalError = 82;
    public const int Timeout = 85;

    /// <summary>Worth trying again after a pause: the DC is busy, unavailable, unreachable or slow.</summary>
    public bool Transient => Code is Busy or Unavailable or ServerDown or Timeout or 3 /* timeLimitExceeded */;

    /// <summary>The fault inside an exception thrown by System.DirectoryServices.Protocols; null for anything else.</summary>
    public static LdapFault? From(Exception exception) => exception switch
    {
        DirectoryOperationException { Response: { } response } => new((int)response.ResultCode, response.ErrorMessage ?? response.ResultCode.ToString()),
        LdapException ldap => new(ldap.ErrorCode, string.IsNullOrEmpty(ldap.ServerErrorMessage) ? ldap.Message : $"{ldap.Message} {ldap.ServerErrorMessage}"),
        DirectoryOperationException other => new(-1, other.Message),
        _ => null,
    };

    public string CodeName => Code switch
    {
        8 => "strongerAuthRequired",
        ConstraintViolation => "constraintViolation",
        NoSuchAttribute => "noSuchAttribute",
        NoSuchObject => "noSuchObject",
        34 => "invalidDNSyntax",
        InvalidCredentials => "invalidCredentials",
        InsufficientAccessRights => "insufficientAccessRights",
        Busy => "busy",
        Unavailable => "unavailable",
        UnwillingToPerform => "unwillingToPerform",
        EntryAlreadyExists => "entryAlreadyExists",
        ServerDown => "serverDown",
        Timeout => "timeout",
        87 => "filterError",
        _ => "result",
    };

    /// <summary>
    /// The connector failure an operator can act on: what was refused, the LDAP code and the server's words, and for
    /// access denials the delegated right the service account lacks.
    /// </summary>
    public ConnectorException ToConnectorException(string operation, string target, string? neededRight, Exception? inner = null)
    {
        var detail = $"(LDAP {Code} {CodeName}: {Message.Trim()})";
        var message = Code switch
        {
            InsufficientAccessRights => $"{operation} on {target} was refused: insufficient access rights {detail}. " +
                $"The service account needs: {neededRight ?? "the right to do this"}.",
            NoSuchObject => $"{operation}: {target} does not exist or is not visible to the service account {detail}",
            ConstraintViolation => $"{operation} on {target} broke a directory constraint, e.g. the password policy {detail}",
            InvalidCredentials => $"{operation}: the domain controller refused the service account's credentials {detail}",
            8 => $"{operation}: the domain controller requires a protected connection {detail}",
            UnwillingToPerform => $"{operation} on {target}: the domain controller is unwilling to perform it {detail}",
            Busy or Unavailable => $"{operation} on {target}: the domain controller is {(Code == Busy ? "busy" : "unavailable")}; retries ran out {detail}",
            ServerDown => $"{operation}: cannot reach the domain controller over LDAPS, or its certificate is not trusted by connectors.ad.ca_bundle {detail}",
            Timeout or 3 => $"{operation} on {target} timed out {detail}",
            _ => $"{operation} on {target} failed {detail}",
        };
        return new ConnectorException(message, Transient, inner);
    }
}
