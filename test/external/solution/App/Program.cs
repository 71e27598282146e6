using Core;
using Text;

Shape[] shapes = [new Circle(1), new Rect(2, 3), new Circle(0.5)];
Console.Write(Report.Table(shapes, s => s.Name, s => s.Area));
