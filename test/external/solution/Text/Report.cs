using System.Text;

namespace Text;

public static class Report
{
    public static string Table<T>(IEnumerable<T> rows, Func<T, string> name, Func<T, double> value)
    {
        var sb = new StringBuilder();
        foreach (var r in rows) sb.Append(name(r).PadRight(12)).Append(value(r).ToString("F2")).AppendLine();
        return sb.ToString();
    }
}
