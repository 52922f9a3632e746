namespace ResponseEngine.Diagnostics;

/// <summary>The stable codes of user-input diagnostics; docs/diagnostics.md explains each, and a test keeps the two in step.</summary>
public static class DiagnosticCodes
{
    // Files and YAML
    public const string YamlSyntax = "RE0001";
    public const string UnknownKey = "RE0002";
    public const string MissingField = "RE0003";
    public const string WrongType = "RE0004";
    public const string InvalidValue = "RE0005";
    public const string InvalidDate = "RE0006";
    public const string DuplicateId = "RE0007";
    public const string DuplicateKey = "RE0008";
    public const string UnsupportedYaml = "RE0009";
    public const string FileUnreadable = "RE0010";

    // Rules
    public const string InvalidId = "RE0011";
    public const string UnknownProvider = "RE0012";
    public const string InvalidSeverity = "RE0013";
    public const string InvalidDuration = "RE0014";
    public const string EmptyList = "RE0015";
    public const string TooManyProblems = "RE0016";

    // Actions
    public const string UnknownAction = "RE0020";
    public const string ActionProviderUnsupported = "RE0021";
    public const string UnknownParameter = "RE0022";
    public const string MissingParameter = "RE0023";
    public const string BadParameter = "RE0024";

    // Conditions
    public const string ExpressionSyntax = "RE0030";
    public const string UnknownVariable = "RE0031";
    public const string UnknownFunction = "RE0032";
    public const string ExpressionType = "RE0033";
    public const string ExpressionTooComplex = "RE0034";
    public const string UnsupportedOperator = "RE0035";

    // Rule tests
    public const string BadTest = "RE0040";
    public const string UnknownExpectedAction = "RE0041";
    public const string TestFailed = "RE0050";

    // Findings
    public const string FindingMalformed = "RE0100";
    public const string FindingMissingField = "RE0101";
    public const string FindingInvalidValue = "RE0102";
    public const string FindingDuplicate = "RE0103";
    public const string FindingNotText = "RE0104";

    // Directory snapshot
    public const string DirectoryMalformed = "RE0200";
    public const string DirectoryInvalid = "RE0201";
    public const string DirectoryMissing = "RE0202";

    // Warnings
    public const string TestsIncomplete = "RE1001";
    public const string IdFileMismatch = "RE1002";
    public const string RuleExpired = "RE1003";

    // Rule-set analysis (`respond lint`)
    public const string LintContradiction = "RE1101";
    public const string LintShadowed = "RE1102";
    public const string LintUnreachable = "RE1103";
    public const string LintObservePastReview = "RE1104";
    public const string LintPolicy = "RE1105";

    /// <summary>Every code with its one-line meaning, for documentation and for `respond validate --codes`.</summary>
    public static IReadOnlyList<(string Code, string Meaning)> All { get; } =
    [
        (YamlSyntax, "the file is not valid YAML"),
        (UnknownKey, "a key the format does not have (with a did-you-mean suggestion)"),
        (MissingField, "a required field is missing"),
        (WrongType, "a value has the wrong type (for example a list where a string belongs)"),
        (InvalidValue, "a value is not one of the allowed values"),
        (InvalidDate, "a date is not an ISO date (YYYY-MM-DD)"),
        (DuplicateId, "two rules have the same id"),
        (DuplicateKey, "a key appears twice in one mapping"),
        (UnsupportedYaml, "a YAML feature rules do not allow (anchors, aliases, tags, several documents)"),
        (FileUnreadable, "a file or folder cannot be read, or is too large"),
        (InvalidId, "a rule id is not lower-case kebab-case"),
        (UnknownProvider, "a provider other than ad, entra or okta"),
        (InvalidSeverity, "a severity other than informational, low, medium, high or critical"),
        (InvalidDuration, "a duration is not like 30m, 24h or 7d"),
        (EmptyList, "a list that must have items is empty"),
        (TooManyProblems, "a file has more problems than are listed: the first 100 are shown, this line counts the rest"),
        (UnknownAction, "an action that is not in the catalogue"),
        (ActionProviderUnsupported, "an action that does not support one of the rule's providers"),
        (UnknownParameter, "an action parameter the action does not take"),
        (MissingParameter, "a required action parameter is missing"),
        (BadParameter, "an action parameter has a bad value"),
        (ExpressionSyntax, "a condition does not parse"),
        (UnknownVariable, "a condition names a variable that does not exist"),
        (UnknownFunction, "a condition calls a function that does not exist or with the wrong arguments"),
        (ExpressionType, "a condition compares or combines values of incompatible types"),
        (ExpressionTooComplex, "a condition is too long or too deeply nested"),
        (UnsupportedOperator, "a condition uses an operator the rule language does not have"),
        (BadTest, "a rule test is malformed"),
        (UnknownExpectedAction, "a rule test expects an action the rule does not have"),
        (TestFailed, "a rule's inline test fails: the rule takes other actions than the test expects (`respond test`)"),
        (FindingMalformed, "a finding record is not valid JSON or not an object"),
        (FindingMissingField, "a finding lacks a required field"),
        (FindingInvalidValue, "a finding field has a bad value"),
        (FindingDuplicate, "two findings have the same source and id"),
        (FindingNotText, "a finding string is not valid Unicode text (a lone surrogate escape or bytes that are not UTF-8)"),
        (DirectoryMalformed, "the directory snapshot is not valid JSON"),
        (DirectoryInvalid, "a directory snapshot entry is invalid"),
        (DirectoryMissing, "the directory snapshot file does not exist"),
        (TestsIncomplete, "a rule lacks a test that expects actions or one that expects none"),
        (IdFileMismatch, "a rule's id differs from its file name"),
        (RuleExpired, "a rule's expiry date has passed: it only observes"),
        (LintContradiction, "two rules can decide opposite actions (disable_user and enable_user) for the same finding and identity"),
        (LintShadowed, "a rule is shadowed: another rule admits every finding and identity it does and takes the same actions"),
        (LintUnreachable, "a condition, or one branch of it, can never be true for a finding the rule's match admits"),
        (LintObservePastReview, "an observe-mode rule is past its review date (expires) and still only observes"),
        (LintPolicy, "a rule lacks what lint: in respond.yaml requires (an expires date for its mode, an owner from lint.owners)"),
    ];
}
