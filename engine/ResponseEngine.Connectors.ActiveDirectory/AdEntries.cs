using System.Collections.Immutable;
using System.DirectoryServices.Protocols;
using System.Globalization;
using ResponseEngine.Connectors.ActiveDirectory.Ldap;

namespace ResponseEngine.Connectors.ActiveDirectory;

/// <summary>A user object as read from LDAP: the attributes the actions and identity lookups need.</summary>
internal sealed record AdUser(
    string Dn,
    Guid ObjectGuid,
    string SamAccountName,
    string? Upn,
    string? Mail,
    string? DisplayName,
    int UserAccountControl,
    long PwdLastSet,
    ImmutableArray<string> MemberOf,
    ReplicationMetadata Metadata)
{
    /// <summary>primaryGroupID: the RID of the group the account belongs to without being in its member list.</summary>
    public uint? PrimaryGroupId { get; init; }

    /// <summary>objectSid; its prefix is the domain SID the primary group's RID is relative to.</summary>
    public byte[]? Sid { get; init; }

    /// <summary>employeeID: matched to an Okta account's employeeNumber when linking is configured to.</summary>
    public string? EmployeeId { get; init; }

    /// <summary>mS-DS-ConsistencyGuid, where Entra Connect uses it as the source anchor (Entra onPremisesImmutableId is its base64).</summary>
    public Guid? ConsistencyGuid { get; init; }

    /// <summary>The primary group's SID: the account's own SID with its last sub-authority replaced by primaryGroupID.</summary>
    public byte[]? PrimaryGroupSid => Sid is { Length: >= 12 } sid && PrimaryGroupId is { } rid ? AdGroup.WithRid(sid, rid) : null;

    public const int AccountDisable = 0x2;

    public static readonly string[] Attributes =
        ["objectGUID", "sAMAccountName", "userPrincipalName", "mail", "displayName", "cn", "userAccountControl", "pwdLastSet", "memberOf", "replPropertyMetaData", "primaryGroupID", "objectSid", "employeeID", "mS-DS-ConsistencyGuid"];

    public string Id => ObjectGuid.ToString("D");

    public bool Enabled => (UserAccountControl & AccountDisable) == 0;

    public bool PasswordMustChange => PwdLastSet == 0;

    /// <summary>
    /// When the password was last replaced, if that happened no earlier than the change that set pwdLastSet to 0 (what
    /// reset_password with set_random does in one modify): the password in force is one nobody but the directory knows,
    /// and it must be changed at next logon. Compared by originating USN on the same DC, else by change time.
    /// </summary>
    public DateTimeOffset? PasswordResetWithForcedChangeAt
    {
        get
        {
            if (!PasswordMustChange || Metadata.Find(ReplicationMetadata.UnicodePwd) is not { } password || Metadata.Find(ReplicationMetadata.PwdLastSet) is not { } lastSet)
            {
                return null;
            }

            var notEarlier = password.InvocationId == lastSet.InvocationId
                ? password.OriginatingUsn >= lastSet.OriginatingUsn
                : password.OriginatingChangeTime >= lastSet.OriginatingChangeTime;
            return notEarlier ? password.OriginatingChangeTime : null;
        }
    }

    public static AdUser From(SearchResultEntry entry) => new(
        entry.DistinguishedName,
        new Guid(Bytes(entry, "objectGUID") ?? throw new InvalidOperationException($"{entry.DistinguishedName} has no objectGUID")),
        Text(entry, "sAMAccountName") ?? Text(entry, "cn") ?? entry.DistinguishedName,
        Text(entry, "userPrincipalName"),
        Text(entry, "mail"),
        Text(entry, "displayName"),
        int.TryParse(Text(entry, "userAccountControl"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var uac) ? uac : 0,
        long.TryParse(Text(entry, "pwdLastSet"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pls) ? pls : 0,
        Texts(entry, "memberOf"),
        ReplicationMetadata.Parse(Bytes(entry, "replPropertyMetaData")))
    {
        PrimaryGroupId = uint.TryParse(Text(entry, "primaryGroupID"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var primary) ? primary : null,
        Sid = Bytes(entry, "objectSid"),
        EmployeeId = Text(entry, "employeeID"),
        ConsistencyGuid = Bytes(entry, "mS-DS-ConsistencyGuid") is { Length: 16 } anchor ? new Guid(anchor) : null,
    };

    public static string? Text(SearchResultEntry entry, string name) =>
        entry.Attributes.Contains(name) && entry.Attributes[name].Count > 0 ? entry.Attributes[name].GetValues(typeof(string))[0] as string : null;

    public static ImmutableArray<string> Texts(SearchResultEntry entry, string name) =>
        entry.Attributes.Contains(name) ? [.. entry.Attributes[name].GetValues(typeof(string)).Cast<string>()] : [];

    public static byte[]? Bytes(SearchResultEntry entry, string name) =>
        entry.Attributes.Contains(name) && entry.Attributes[name].Count > 0 ? entry.Attributes[name].GetValues(typeof(byte[]))[0] as byte[] : null;
}

/// <summary>A group object: its name is its sAMAccountName (cn when there is none), as rules and respond.yaml spell it.</summary>
internal sealed record AdGroup(string Dn, Guid ObjectGuid, string Name, string Cn, ImmutableArray<string> MemberOf, byte[]? Sid)
{
    public static readonly string[] Attributes = ["objectGUID", "sAMAccountName", "cn", "memberOf", "objectSid"];

    public string Id => ObjectGuid.ToString("D");

    /// <summary>The relative id, for members whose primary group this is (primaryGroupID is not in memberOf).</summary>
    public uint? Rid => Sid is { Length: >= 8 } sid ? BitConverter.ToUInt32(sid, sid.Length - 4) : null;

    /// <summary>A copy of <paramref name="sid"/> whose last sub-authority is <paramref name="rid"/> (same domain, another object).</summary>
    public static byte[] WithRid(byte[] sid, uint rid)
    {
        ArgumentNullException.ThrowIfNull(sid);
        var copy = (byte[])sid.Clone();
        BitConverter.TryWriteBytes(copy.AsSpan(copy.Length - 4), rid);
        return copy;
    }

    public bool Answers(string name) =>
        string.Equals(Name, name, StringComparison.OrdinalIgnoreCase) || string.Equals(Cn, name, StringComparison.OrdinalIgnoreCase);

    public static AdGroup From(SearchResultEntry entry)
    {
        var cn = AdUser.Text(entry, "cn") ?? entry.DistinguishedName;
        return new(
            entry.DistinguishedName,
            new Guid(AdUser.Bytes(entry, "objectGUID") ?? throw new InvalidOperationException($"{entry.DistinguishedName} has no objectGUID")),
            AdUser.Text(entry, "sAMAccountName") ?? cn,
            cn,
            AdUser.Texts(entry, "memberOf"),
            AdUser.Bytes(entry, "objectSid"));
    }

    public static string Filter(string name)
    {
        var value = LdapEscape.FilterValue(name);
        return $"(&(objectClass=group)(|(sAMAccountName={value})(cn={value})))";
    }
}

/// <summary>
/// replPropertyMetaData: per attribute, the version, time and USN of its last originating change. It tells whether a
/// password and pwdLastSet were written by one and the same modify, without keeping anything about the password.
/// </summary>
internal sealed record ReplicationMetadata(ImmutableArray<ReplicationMetadata.Entry> Entries)
{
    public const uint UnicodePwd = 0x0009005A;
    public const uint PwdLastSet = 0x00090060;
    private const int Header = 16;
    private const int EntrySize = 48;

    public static ReplicationMetadata Empty { get; } = new([]);

    public static ReplicationMetadata Parse(byte[]? blob)
    {
        if (blob is null || blob.Length < Header || BitConverter.ToUInt32(blob, 0) != 1) return Empty;
        var count = BitConverter.ToUInt32(blob, 8);
        if (count > (blob.Length - Header) / EntrySize) return Empty;
        var entries = ImmutableArray.CreateBuilder<Entry>((int)count);
        for (var i = 0; i < count; i++)
        {
            var at = Header + (i * EntrySize);
            var seconds = BitConverter.ToInt64(blob, at + 8);
            var time = seconds > 0 && seconds < 400_000_000_000L ? new DateTimeOffset(1601, 1, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(seconds) : (DateTimeOffset?)null;
            entries.Add(new Entry(
                BitConverter.ToUInt32(blob, at),
                BitConverter.ToUInt32(blob, at + 4),
                time,
                new Guid(blob.AsSpan(at + 16, 16)),
                BitConverter.ToInt64(blob, at + 32)));
        }

        return new ReplicationMetadata(entries.MoveToImmutable());
    }

    public Entry? Find(uint attributeId) => Entries.FirstOrDefault(e => e.AttributeId == attributeId);

    internal sealed record Entry(uint AttributeId, uint Version, DateTimeOffset? OriginatingChangeTime, Guid InvocationId, long OriginatingUsn);
}
