namespace Core;

/// <summary>A few types for the compiler to chew on.</summary>
public abstract record Shape(string Name)
{
    public abstract double Area { get; }
}

public sealed record Circle(double Radius) : Shape("circle")
{
    public override double Area => Math.PI * Radius * Radius;
}

public sealed record Rect(double W, double H) : Shape("rect")
{
    public override double Area => W * H;
}
