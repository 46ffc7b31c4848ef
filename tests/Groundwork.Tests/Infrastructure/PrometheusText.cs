using System.Globalization;
using System.Text.RegularExpressions;

namespace Groundwork.Tests.Infrastructure;

/// <summary>Reads a <c>/metrics</c> scrape (Prometheus text format).</summary>
public static partial class PrometheusText
{
    /// <summary>
    /// The sum of the series called <paramref name="name"/> whose labels include every one of <paramref name="labels"/>
    /// (written as in the scrape: <c>policy="register-ip"</c>).
    /// </summary>
    public static long Sum(string metrics, string name, params string[] labels) =>
        SeriesLine().Matches(metrics)
            .Where(m => m.Groups["name"].Value == name && labels.All(l => m.Groups["labels"].Value.Contains(l, StringComparison.Ordinal)))
            .Sum(m => (long)double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    /// <summary>The names of every series in the scrape (a histogram's are its <c>_bucket</c>, <c>_count</c> and <c>_sum</c>).</summary>
    public static HashSet<string> Names(string metrics) =>
        SeriesName().Matches(metrics).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", RegexOptions.Multiline)]
    private static partial Regex SeriesName();

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{(?<labels>.*)\} (?<value>[-+0-9.eE]+)\r?$", RegexOptions.Multiline)]
    private static partial Regex SeriesLine();
}
