namespace Groundwork.Platform.Persistence;

/// <summary>
/// A search term in the forms the database's <c>lower()</c> can give stored text. SQLite's folds only A–Z (so does
/// PostgreSQL's under the C locale); PostgreSQL's under a UTF-8 locale folds every letter. A term folded by .NET
/// alone ("ÉCOLE" to "école") never met text folded by SQLite ("ÉCOLE" to "École"), so even an exact search for a
/// capital accented word found nothing. Searching for both forms finds "ÉCOLE" and "École" everywhere, and "école"
/// where the database folds É.
/// </summary>
public static class SearchText
{
    /// <summary>The term trimmed and folded fully, and folded in A–Z only (the same string when the term is ASCII).</summary>
    public static (string Folded, string AsciiFolded) Forms(string term)
    {
        ArgumentNullException.ThrowIfNull(term);
        var trimmed = term.Trim();
        return (trimmed.ToLowerInvariant(), string.Create(trimmed.Length, trimmed, static (span, text) =>
        {
            for (var i = 0; i < text.Length; i++)
            {
                span[i] = char.IsAsciiLetterUpper(text[i]) ? (char)(text[i] + ('a' - 'A')) : text[i];
            }
        }));
    }
}
